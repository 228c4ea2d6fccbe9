// The MCP server speaks the protocol over both transports, checked with the MCP sdk's own Client: /admin/mcp
// (streamable HTTP, stateless) on a real engine, and `islet mcp` (stdio) spawned as a real child process against that
// engine. Handshake, the tool list, describe_platform read from the installed sdk, and the HTTP route's refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { startApp, type TestApp } from './support/app.ts'
import { BIN } from './support/cli.ts'

const APP = `apiVersion: islet/v1
modules:
  - name: admin
    type: islet.admin
  - name: web
    type: http.server
    config: { port: 0, middleware: [admin] }
`
const TOOLS = ['deploy', 'describe_platform', 'diff', 'get_source', 'invoke', 'list_versions', 'promote', 'rollback', 'tail_logs', 'validate']

let app: TestApp
beforeAll(async () => { app = await startApp({ 'app.yaml': APP }) })
afterAll(async () => { await app?.close() })

async function overHttp(): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.url}/admin/mcp`)))
  return client
}

async function overStdio(stderr: string[]): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' })
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--url', app.url], stderr: 'pipe', env: { ...process.env, ISLET_TOKEN: '' } as Record<string, string> })
  transport.stderr?.on('data', (chunk) => stderr.push(String(chunk)))
  await client.connect(transport)
  return client
}

describe.each([['/admin/mcp (streamable HTTP)', 'http'], ['islet mcp (stdio)', 'stdio']] as const)('MCP over %s', (_, kind) => {
  it('completes the handshake and lists the ten tools, each with a JSON Schema input and a description for agents', async () => {
    const stderr: string[] = []
    const client = kind === 'http' ? await overHttp() : await overStdio(stderr)
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'islet' })
      expect(client.getInstructions()).toContain('describe_platform')
      const { tools } = await client.listTools()
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS)
      for (const tool of tools) {
        expect(tool.inputSchema.type).toBe('object')
        expect(tool.description!.length).toBeGreaterThan(40)
      }
    } finally {
      await client.close()
    }
  }, 30_000)

  it('describe_platform gives the sdk component types, the globals and a worked example', async () => {
    const client = kind === 'http' ? await overHttp() : await overStdio([])
    try {
      const result = await client.callTool({ name: 'describe_platform', arguments: {} })
      expect(result.isError).toBeFalsy()
      const text = (result.content as { type: string; text: string }[])[0]!.text
      expect(text).toContain('export interface ComponentDefinition') // read from the installed sdk/component.ts
      expect(text).toContain('export type JsonSchema')
      expect(text).toContain('## Globals inside the isolate')
      expect(text).toContain("import { defineComponent } from '@islet/sdk'")
      const structured = result.structuredContent as { example: { entry: string; files: Record<string, string> }; globals: string[] }
      expect(structured.example.entry).toBe('index.ts')
      expect(structured.example.files['index.ts']).toContain('examples: [')
    } finally {
      await client.close()
    }
  }, 30_000)

  it('answers a call with bad arguments with ERR_MCP_TOOL_INPUT naming the problem, not a protocol failure', async () => {
    const client = kind === 'http' ? await overHttp() : await overStdio([])
    try {
      const result = await client.callTool({ name: 'validate', arguments: { slot: 'pricing', file: {} } })
      expect(result.isError).toBe(true)
      const error = (result.structuredContent as { error: { code: string; message: string } }).error
      expect(error.code).toBe('ERR_MCP_TOOL_INPUT')
      expect(error.message).toContain("must have required property 'files'")
      expect(error.message).toContain('file')
      // deploy's result carries the version as an object; passing that on is answered with the id to send.
      const promote = await client.callTool({ name: 'promote', arguments: { slot: 'pricing', version: { id: 4, hash: 'ab', status: 'staged' } } })
      expect(promote.isError).toBe(true)
      expect((promote.structuredContent as { error: { message: string } }).error.message).toContain('/version must be integer, got a version object: pass its id, 4')
    } finally {
      await client.close()
    }
  }, 30_000)
})

describe('/admin/mcp route', () => {
  it('answers GET and DELETE with 405 (stateless: no stream, no session)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${app.url}/admin/mcp`, { method, headers: { accept: 'text/event-stream' } })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('POST')
    }
  })

  it('refuses a web page of another origin, and the token-free loopback access under a non-loopback Host name (DNS rebinding)', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
    const fromPage = await fetch(`${app.url}/admin/mcp`, { method: 'POST', headers: { ...headers, origin: 'https://evil.example' }, body: JSON.stringify(init) })
    // The admin access rule (access.ts) turns both away before the MCP route: no token-free access for them.
    expect(fromPage.status).toBe(401)
    expect(((await fromPage.json()) as { error: { code: string; details: { reason: string } } }).error).toMatchObject({ code: 'ERR_ADMIN_AUTH_REQUIRED', details: { reason: 'origin' } })
    const port = new URL(app.url).port
    const rebound = await rawPost(Number(port), 'evil.example', JSON.stringify(init))
    expect(rebound.status).toBe(401)
    expect(JSON.parse(rebound.body).error).toMatchObject({ code: 'ERR_ADMIN_AUTH_REQUIRED', details: { reason: 'host' } })
    const direct = await fetch(`${app.url}/admin/mcp`, { method: 'POST', headers: { ...headers, origin: `http://127.0.0.1:${port}` }, body: JSON.stringify(init) })
    expect(direct.status).toBe(200)
  })
})

/** A POST with a Host header of our choosing (fetch will not send a foreign Host). */
async function rawPost(port: number, host: string, body: string): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http')
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/admin/mcp', headers: {
      host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body),
    } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => resolve({ status: res.statusCode!, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
