// HTTP modules that cannot be created or started: each failure carries a stable code (ERR_HTTP_*, or the engine's
// contract refusal at load, at the YAML), names the module at fault and says what to do, in the engine's start failure
// (details.modules, and the cause).
import { createServer, type Server } from 'node:net'
import { describe, expect, it } from 'vitest'
import { isIsletError, type IsletError } from '../runtime/errors.ts'
import type { ModuleStatus } from '../runtime/engine/engine.ts'
import { ConfigError, type Diagnostic } from '../runtime/config/diagnostics.ts'
import { openTestApp } from './support/app.ts'

/** The diagnostics of an app whose config does not load. */
async function loadFailure(yaml: string): Promise<readonly Diagnostic[]> {
  const error = await openTestApp({ 'app.yaml': yaml }).then(async (app) => { await app.close(); return undefined }, (e: unknown) => e)
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`)
  return error.diagnostics
}

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
  // The server's routers and middleware are moduleRefs with a contract: a wrong entry is refused when the config loads.
  it('a routers entry naming a module that is not an http.router: refused at load, at the entry', async () => {
    const diagnostics = await loadFailure(`apiVersion: islet/v1
modules:
  - name: cors
    type: http.cors
    config: { origins: ['https://shop.example'] }
${server('      routers: [cors]')}`)
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_MODULE_CONTRACT', line: 11, col: 17 }])
    expect(diagnostics[0]!.message).toBe("module 'cors' (http.cors) does not provide http.router, which this property needs; http.cors provides http.middleware")
    expect(diagnostics[0]!.hint).toContain('module types that do: http.executions, http.router')
  })

  it('a middleware entry naming a module that provides no middleware: refused at load, naming the modules that do', async () => {
    const diagnostics = await loadFailure(`apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config: { routes: [] }
  - name: log
    type: http.access-log
${server('      routers: [api]\n      middleware: [api]')}`)
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_MODULE_CONTRACT', line: 14, col: 20 }])
    expect(diagnostics[0]!.message).toContain("module 'api' (http.router) does not provide http.middleware")
    expect(diagnostics[0]!.hint).toBe('modules that provide http.middleware: log')
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
