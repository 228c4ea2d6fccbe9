// A revocation holds from the next request on — and a request that never ends? An admin event stream opened with an
// API key outlived the key's revocation: the key's holder kept reading engine events for as long as it held the
// connection. The stream is checked again at each heartbeat and ends once its credentials no longer pass; so is a
// slot's log stream (logs?follow=1).
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp, type TestApp } from '../support/app.ts'
import { isletAsync } from '../support/cli.ts'

let app: TestApp
let cliArgs: string[]
beforeAll(async () => {
  app = await startApp({ 'app.yaml': `apiVersion: islet/v1
components:
  - slot: pricing
    deployers: ['deploy:pricing']
modules:
  - name: keys
    type: auth.apikey
  - name: admin
    type: islet.admin
    config: { auth: [keys], heartbeatSeconds: 1 }
  - name: web
    type: http.server
    config: { port: 0, host: 0.0.0.0, middleware: [admin] }
` })
  cliArgs = ['--app', join(app.dir, 'app.yaml'), '--data-dir', join(app.dir, 'data')]
})
afterAll(async () => { await app?.close() })

describe('an admin event stream', () => {
  it('ends once the API key it was opened with is revoked', async () => {
    // The key is made and revoked by the real CLI, in another process (as an operator would).
    const made = await isletAsync(['apikey', 'create', 'watcher', '--scopes', 'admin:read', '--format', 'json', ...cliArgs])
    expect(made.status, made.stderr).toBe(0)
    const { id, key } = JSON.parse(made.stdout) as { id: string; key: string }
    const res = await fetch(`${app.url.replace('//0.0.0.0:', '//127.0.0.1:')}/admin/events`, { headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    expect(decoder.decode((await reader.read()).value)).toContain(': connected')
    const revoked = await isletAsync(['apikey', 'revoke', id, ...cliArgs])
    expect(revoked.status, revoked.stderr).toBe(0)
    // Heartbeats may still arrive until the next check; then the stream ends.
    for (;;) {
      const { done } = await reader.read()
      if (done) break
    }
  }, 30_000)
})

describe("a slot's log stream", () => {
  it('ends once the API key it was opened with is revoked', async () => {
    const made = await isletAsync(['apikey', 'create', 'tail', '--scopes', 'deploy:pricing', '--format', 'json', ...cliArgs])
    expect(made.status, made.stderr).toBe(0)
    const { id, key } = JSON.parse(made.stdout) as { id: string; key: string }
    const res = await fetch(`${app.url.replace('//0.0.0.0:', '//127.0.0.1:')}/admin/slots/pricing/logs?follow=1`, { headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(': connected')
    const revoked = await isletAsync(['apikey', 'revoke', id, ...cliArgs])
    expect(revoked.status, revoked.stderr).toBe(0)
    for (;;) {
      const { done } = await reader.read()
      if (done) break
    }
  }, 30_000)
})
