// Liveness and readiness: /healthz answers while the process serves; /readyz only once every module has started
// and not while shutting down, so a load balancer stops sending traffic before the drain.
import type { Middleware } from 'koa'
import type { EngineView } from '@islet/sdk'
import type { InFlight } from './request-core.ts'
import type { RequestState } from './contracts.ts'

export function createHealth(engine: EngineView, inFlight: InFlight): Middleware<RequestState> {
  // Not async: every request passes through here, and an async frame per request is a promise per request.
  return (kctx, next) => {
    if (kctx.path === '/healthz') {
      kctx.body = { status: 'ok' }
      return Promise.resolve()
    }
    if (kctx.path === '/readyz') {
      const ready = engine.state === 'ready' && !inFlight.draining
      kctx.status = ready ? 200 : 503
      kctx.body = { status: ready ? 'ready' : inFlight.draining ? 'stopping' : engine.state }
      return Promise.resolve()
    }
    return next()
  }
}
