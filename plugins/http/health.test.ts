// Readiness follows the engine state and the drain: a load balancer must see 503 before traffic is cut.
import { describe, expect, it } from 'vitest'
import type { EngineState } from '@islet/sdk'
import { createHealth } from './health.ts'
import type { InFlight } from './request-core.ts'

async function probe(state: EngineState, draining: boolean, path = '/readyz') {
  const inFlight: InFlight = { count: 0, draining, idle: async () => {} }
  const kctx = { path, status: 404, body: undefined as unknown }
  let passed = false
  await createHealth({ state, version: '0.1.0' }, inFlight)(kctx as never, async () => { passed = true })
  return { status: kctx.status, body: kctx.body, passed }
}

describe('health', () => {
  it('/readyz is 200 only when ready and not draining', async () => {
    expect(await probe('ready', false)).toMatchObject({ status: 200, body: { status: 'ready' } })
    expect(await probe('starting', false)).toMatchObject({ status: 503, body: { status: 'starting' } })
    expect(await probe('ready', true)).toMatchObject({ status: 503, body: { status: 'stopping' } })
    expect(await probe('stopping', false)).toMatchObject({ status: 503, body: { status: 'stopping' } })
  })

  it('/healthz stays 200 while draining; other paths pass through', async () => {
    expect(await probe('stopping', true, '/healthz')).toMatchObject({ body: { status: 'ok' }, passed: false })
    expect((await probe('ready', false, '/orders')).passed).toBe(true)
  })
})
