// An agent's loop through MCP, with the MCP sdk's own Client, against a real engine (sandbox, SQLite slot store):
// validate → diagnostics it can act on; the worked example of describe_platform validates; deploy + promote → invoke
// returns the new output (and the app's own route serves it); versions, source, diff, logs; rollback. Over /admin/mcp
// (streamable HTTP, in-process ops) and over `islet mcp` (stdio, a real child process calling the admin HTTP API).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { DeployResult, SlotInvokeResult } from '@islet/sdk'
import { json, startApp, type TestApp } from './support/app.ts'
import { BIN } from './support/cli.ts'
import { appYaml, pricing, probe } from './support/slots.ts'

const ADMIN_ON_WEB = (yaml: string) => yaml
  .replace('modules:\n', 'modules:\n  - name: admin\n    type: islet.admin\n')
  .replace('config: { port: 0, routers: [api] }', 'config: { port: 0, middleware: [admin], routers: [api] }')

const NODE_FS = `import { defineComponent } from '@islet/sdk'
import { readFileSync } from 'node:fs'
export default defineComponent({ name: 'pricing', examples: [{ input: {} }], execute: () => ({ text: String(readFileSync) }) })
`

type Call = (name: string, args: Record<string, unknown>) => Promise<{ isError: boolean; data: any; text: string }>

function caller(client: Client): Call {
  return async (name, args) => {
    const r = await client.callTool({ name, arguments: args })
    const text = (r.content as { type: string; text: string }[])[0]!.text
    return { isError: r.isError === true, data: r.structuredContent, text }
  }
}

async function overHttp(url: string): Promise<Client> {
  const client = new Client({ name: 'agent', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/admin/mcp`)))
  return client
}

async function overStdio(url: string): Promise<Client> {
  const client = new Client({ name: 'agent', version: '1.0.0' })
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--url', url], stderr: 'ignore', env: { ...process.env, ISLET_TOKEN: '' } as Record<string, string> }))
  return client
}

describe.each([['/admin/mcp (streamable HTTP)', overHttp], ['islet mcp (stdio)', overStdio]] as const)('the agent loop over %s', (_, connect) => {
  let app: TestApp
  let client: Client
  let call: Call
  beforeAll(async () => {
    app = await startApp({ 'app.yaml': ADMIN_ON_WEB(appYaml()) }, { plugins: [probe] })
    client = await connect(app.url)
    call = caller(client)
  }, 60_000)
  afterAll(async () => { await client?.close(); await app?.close() })

  it('validate answers a Node built-in import with a located diagnostic, isError, and stores nothing', async () => {
    const r = await call('validate', { slot: 'pricing', files: { 'index.ts': NODE_FS } })
    expect(r.isError).toBe(true)
    const result = r.data as DeployResult
    expect(result).toMatchObject({ ok: false, dryRun: true, promoted: false })
    expect(result.diagnostics).toContainEqual(expect.objectContaining({ code: 'ERR_COMPONENT_IMPORT', severity: 'error', file: 'index.ts', line: 2 }))
    expect(JSON.parse(r.text)).toEqual(r.data) // the text content is the same JSON
    const versions = await call('list_versions', { slot: 'pricing' })
    expect(versions.data).toEqual({ slot: 'pricing', live: null, versions: [] })
  }, 60_000)

  it("describe_platform's worked example, named for the slot, validates", async () => {
    const described = await call('describe_platform', { slot: 'pricing' })
    expect(described.isError).toBe(false)
    expect(described.data.slots).toEqual([expect.objectContaining({ name: 'pricing', grants: expect.objectContaining({ kv: true }), deployers: ['deploy:pricing'], live: null })])
    expect(described.text).toContain('### pricing (empty)')
    const { files, entry } = described.data.example
    const r = await call('validate', { slot: 'pricing', files, entry })
    expect(r.data.diagnostics).toEqual([])
    expect(r).toMatchObject({ isError: false, data: { ok: true, dryRun: true } })
  }, 60_000)

  it('deploy with promote serves the new code at once; versions, source, diff and logs follow; rollback brings the old output back', async () => {
    const first = await call('deploy', { slot: 'pricing', files: { 'index.ts': pricing(1) }, promote: true, message: 'v1' })
    expect(first.data, first.text).toMatchObject({ ok: true, promoted: true, version: { id: 1, status: 'live', message: 'v1' } })
    expect((await call('invoke', { slot: 'pricing', input: { n: 3 } })).data).toMatchObject({ ok: true, version: 1, output: { version: 1, total: 3 } })

    const second = await call('deploy', { slot: 'pricing', files: { 'index.ts': pricing(2) } })
    expect(second.data).toMatchObject({ ok: true, promoted: false, version: { id: 2, status: 'staged' } })
    const promoted = await call('promote', { slot: 'pricing', version: 2 })
    expect(promoted).toMatchObject({ isError: false, data: { ok: true, promoted: true } })
    const invoked = (await call('invoke', { slot: 'pricing', input: { n: 4 } })).data as SlotInvokeResult
    expect(invoked).toMatchObject({ ok: true, version: 2, output: { version: 2, total: 4 } })
    // What the agent deployed is what the app serves.
    const served = await fetch(`${app.url}/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 5 }) })
    expect(await json(served)).toEqual({ version: 2, total: 5 })

    const versions = await call('list_versions', { slot: 'pricing' })
    expect(versions.data.live).toBe(2)
    expect(versions.data.versions.map((v: { id: number; status: string }) => [v.id, v.status])).toEqual([[1, 'retired'], [2, 'live']])
    expect((await call('get_source', { slot: 'pricing' })).data).toEqual({ slot: 'pricing', version: 2, files: { 'index.ts': pricing(2) } })
    const diff = (await call('diff', { slot: 'pricing', from: 1, to: 2 })).data.diff as string
    expect(diff).toContain('-  examples: [{ input: { n: 2 }, output: { version: 1, total: 2 } }],')
    expect(diff).toContain('+  examples: [{ input: { n: 2 }, output: { version: 2, total: 2 } }],')
    const logs = (await call('tail_logs', { slot: 'pricing' })).data
    expect(logs.entries.map((e: { message: string }) => e.message)).toContain('priced v2')
    const later = (await call('tail_logs', { slot: 'pricing', after: logs.next })).data
    expect(later.entries).toEqual([])

    const back = await call('rollback', { slot: 'pricing' })
    expect(back).toMatchObject({ isError: false, data: { ok: true, version: { id: 1 } } })
    expect((await call('invoke', { slot: 'pricing', input: { n: 6 } })).data).toMatchObject({ ok: true, version: 1, output: { version: 1, total: 6 } })
  }, 120_000)

  it('an unknown slot and an unknown version are refusals with their codes, not protocol errors', async () => {
    const unknown = await call('invoke', { slot: 'nope', input: {} })
    expect(unknown).toMatchObject({ isError: true, data: { error: { code: 'ERR_SLOT_UNKNOWN' } } })
    const version = await call('promote', { slot: 'pricing', version: 99 })
    expect(version).toMatchObject({ isError: true, data: { error: { code: 'ERR_SLOT_VERSION_UNKNOWN' } } })
  }, 60_000)
})
