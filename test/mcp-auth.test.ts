// MCP acts as the same principal as every admin route: on a server that listens beyond loopback, /admin/mcp and
// `islet mcp` without a token are refused (401, with how to get one); with a token the slot's deployers scope may
// deploy and invoke, a read-only token may look but not deploy (ERR_ADMIN_FORBIDDEN from the slots service).
// Tokens through the islet.admin module's auth: (test.token, a third-party authenticator; test/support/token-auth.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { startApp, type TestApp } from './support/app.ts'
import { BIN } from './support/cli.ts'
import { appYaml, pricing } from './support/slots.ts'
import { tokenAuth } from './support/token-auth.ts'

// The slot app of test/support/slots.ts, its server on 0.0.0.0 with the admin module and a token authenticator.
const APP = appYaml()
  .replace('modules:\n', `modules:
  - name: tok
    type: test.token
    config:
      tokens:
        t-deploy: { subject: agent, scopes: ['deploy:pricing'] }
        t-read: { subject: dashboard, scopes: ['admin:read'] }
  - name: admin
    type: islet.admin
    config: { auth: [tok] }
`)
  .replace(/  - name: probe\n    type: acme\.slots-probe\n/, '')
  .replace('config: { port: 0, routers: [api] }', "config: { port: 0, host: '0.0.0.0', middleware: [admin], routers: [api] }")

let app: TestApp
/** The server reached over loopback, whatever it listens on. */
let url: string
beforeAll(async () => {
  app = await startApp({ 'app.yaml': APP }, { plugins: [tokenAuth] })
  url = app.url.replace('//0.0.0.0:', '//127.0.0.1:')
}, 60_000)
afterAll(async () => { await app?.close() })

async function overHttp(token?: string): Promise<Client> {
  const client = new Client({ name: 'agent', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/admin/mcp`), token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}))
  return client
}

async function overStdio(token?: string): Promise<Client> {
  const client = new Client({ name: 'agent', version: '1.0.0' })
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--url', url], stderr: 'ignore',
    env: { ...process.env, ISLET_TOKEN: token ?? '' } as Record<string, string> }))
  return client
}

const errorOf = (r: object) => ((r as { structuredContent?: unknown }).structuredContent as { error: { code: string; message: string } }).error

describe('/admin/mcp and tokens', () => {
  it('refuses a client without a token with 401 ERR_ADMIN_AUTH_REQUIRED, before any tool runs', async () => {
    await expect(overHttp()).rejects.toThrow(/ERR_ADMIN_AUTH_REQUIRED/)
    const res = await fetch(`${url}/admin/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="islet"')
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_ADMIN_AUTH_REQUIRED')
  })

  it("a read-only token may list but not deploy; the slot's deployer token deploys, promotes and invokes", async () => {
    const reader = await overHttp('t-read')
    try {
      expect((await reader.callTool({ name: 'list_versions', arguments: { slot: 'pricing' } })).isError).toBeFalsy()
      const refused = await reader.callTool({ name: 'deploy', arguments: { slot: 'pricing', files: { 'index.ts': pricing(1) }, promote: true } })
      expect(refused.isError).toBe(true)
      expect(errorOf(refused).code).toBe('ERR_ADMIN_FORBIDDEN')
      expect(errorOf(refused).message).toContain('deploy:pricing')
    } finally { await reader.close() }
    const deployer = await overHttp('t-deploy')
    try {
      const deployed = await deployer.callTool({ name: 'deploy', arguments: { slot: 'pricing', files: { 'index.ts': pricing(1) }, promote: true } })
      expect(deployed.structuredContent).toMatchObject({ ok: true, promoted: true, version: { author: 'agent' } })
      const invoked = await deployer.callTool({ name: 'invoke', arguments: { slot: 'pricing', input: { n: 2 } } })
      expect(invoked.structuredContent).toMatchObject({ ok: true, output: { version: 1, total: 2 } })
    } finally { await deployer.close() }
  }, 60_000)
})

describe('islet mcp and tokens', () => {
  it('without a token each tool call is refused with ERR_ADMIN_AUTH_REQUIRED saying how to get one', async () => {
    const client = await overStdio()
    try {
      const r = await client.callTool({ name: 'list_versions', arguments: { slot: 'pricing' } })
      expect(r.isError).toBe(true)
      expect(errorOf(r).code).toBe('ERR_ADMIN_AUTH_REQUIRED')
      expect(errorOf(r).message).toContain('Authorization: Bearer')
    } finally { await client.close() }
  }, 30_000)

  it("with $ISLET_TOKEN the deployer's calls go through and the reader's deploy is refused", async () => {
    const reader = await overStdio('t-read')
    try {
      const refused = await reader.callTool({ name: 'deploy', arguments: { slot: 'pricing', files: { 'index.ts': pricing(2) } } })
      expect(refused.isError).toBe(true)
      expect(errorOf(refused).code).toBe('ERR_ADMIN_FORBIDDEN')
    } finally { await reader.close() }
    const deployer = await overStdio('t-deploy')
    try {
      const staged = await deployer.callTool({ name: 'deploy', arguments: { slot: 'pricing', files: { 'index.ts': pricing(2) } } })
      expect(staged.structuredContent).toMatchObject({ ok: true, promoted: false, version: { status: 'staged', author: 'agent' } })
    } finally { await deployer.close() }
  }, 60_000)
})

describe('islet mcp against a server whose auth middleware answers first', () => {
  it('says the islet.admin module is not (or not first) in the middleware', async () => {
    const other = await startApp({ 'app.yaml': `apiVersion: islet/v1
components:
  - slot: pricing
modules:
  - name: keys
    type: auth.apikey
    config: { store: keys.db }
  - name: admin
    type: islet.admin
    config: { auth: [keys] }
  - name: web
    type: http.server
    config: { port: 0, middleware: [keys] }
` })
    const client = new Client({ name: 'agent', version: '1.0.0' })
    try {
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--url', other.url], stderr: 'ignore',
        env: { ...process.env, ISLET_TOKEN: '' } as Record<string, string> }))
      const r = await client.callTool({ name: 'list_versions', arguments: { slot: 'pricing' } })
      expect(r.isError).toBe(true)
      expect(errorOf(r).code).toBe('ERR_AUTH_REQUIRED')
      expect(errorOf(r).message).toContain("the app's auth middleware answered, not the admin API")
    } finally {
      await client.close()
      await other.close()
    }
  }, 60_000)
})
