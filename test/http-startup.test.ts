// HTTP modules that cannot be created or started: each failure carries a stable ERR_HTTP_* code, names the module
// at fault and says what to do, in the engine's start failure (details.modules, and the cause).
import { createServer, type Server } from 'node:net'
import { describe, expect, it } from 'vitest'
import { isIsletError, type IsletError } from '../runtime/errors.ts'
import type { ModuleStatus } from '../runtime/engine/engine.ts'
import { openTestApp } from './support/app.ts'

/** Starts the app and returns its start failure and the status of the module that failed. */
async function startFailure(yaml: string, env: Record<string, string> = {}): Promise<{ error: IsletError; failed: ModuleStatus }> {
  const app = await openTestApp({ 'app.yaml': yaml }, { env })
  try {
    const error = await app.started.then(() => undefined, (e: unknown) => e)
    if (!isIsletError(error, 'ERR_ENGINE_START_FAILED')) throw new Error(`expected ERR_ENGINE_START_FAILED, got ${String(error)}`)
    const failed = app.engine.status().modules.find((m) => m.state === 'failed')!
    return { error, failed }
  } finally {
    await app.close()
  }
}

const server = (extra: string) => `
  - name: web
    type: http.server
    config:
      port: 0
${extra}`

describe('http modules that cannot be created', () => {
  it('a routers entry naming a module that is not an http.router', async () => {
    const { error, failed } = await startFailure(`apiVersion: islet/v1
modules:
  - name: cors
    type: http.cors
    config: { origins: ['https://shop.example'] }
${server('      routers: [cors]')}`)
    expect(failed).toMatchObject({ name: 'web', phase: 'create', error: { code: 'ERR_HTTP_NOT_A_ROUTER' } })
    expect(failed.error?.message).toContain("routers entry 'cors' is not an http.router module")
    expect((error.cause as IsletError).details).toEqual({ server: 'web', module: 'cors' })
  })

  it('a middleware entry naming a module that provides no middleware', async () => {
    const { failed } = await startFailure(`apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config: { routes: [] }
${server('      middleware: [api]')}`)
    expect(failed).toMatchObject({ name: 'web', phase: 'create', error: { code: 'ERR_HTTP_NOT_MIDDLEWARE' } })
    expect(failed.error?.message).toContain("middleware entry 'api' is not a middleware module")
  })

  it("CORS origins ['*'] with credentials", async () => {
    const { failed } = await startFailure(`apiVersion: islet/v1
modules:
  - name: cors
    type: http.cors
    config: { origins: ['*'], credentials: true }
${server('      middleware: [cors]')}`)
    expect(failed).toMatchObject({ name: 'cors', phase: 'create', error: { code: 'ERR_HTTP_CONFIG_INVALID' } })
    expect(failed.error?.message).toContain("origins ['*'] cannot be combined with credentials: true")
  })

  it('two routes for the same method and path', async () => {
    const { failed } = await startFailure(`apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /items/:id, pipeline: p }
        - { method: GET, path: /items/:id, pipeline: p }
${server('      routers: [api]')}
pipelines:
  p:
    steps:
      - type: respond
`)
    expect(failed).toMatchObject({ name: 'api', phase: 'create', error: { code: 'ERR_HTTP_ROUTE_CONFLICT' } })
    expect(failed.error?.message).toContain('routes.1 (GET /items/:id) conflicts with an earlier route')
  })
})

describe('a server that cannot listen', () => {
  it('port in use: ERR_HTTP_PORT_IN_USE with the address and what to do', async () => {
    const taken: Server = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const { error, failed } = await startFailure(`apiVersion: islet/v1
modules:
  - name: web
    type: http.server
    config:
      port: \${PORT}
      host: 127.0.0.1
`, { PORT: String(port) })
      expect(failed).toMatchObject({ name: 'web', phase: 'start', error: { code: 'ERR_HTTP_PORT_IN_USE' } })
      expect(failed.error?.message).toBe(
        `port ${port} on 127.0.0.1 is already in use; stop what listens there, or give server 'web' another port (0 picks a free one)`)
      expect((error.cause as IsletError).details).toMatchObject({ server: 'web', host: '127.0.0.1', port, reason: 'EADDRINUSE' })
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
})
