// The agent corpus (test/agent-corpus/README.md) through MCP, as an agent would meet it: each typical first-try
// mistake sent with the `validate` tool of /admin/mcp (the MCP sdk's Client, a real engine with one slot per case)
// must come back refused (isError) with the diagnostics that say how to fix it; the fixed version must then deploy
// and go live with the `deploy` tool, and the `invoke` tool get the fixed output. The checks are
// test/support/agent-corpus.ts's, shared with deploy-validate.test.ts and agent-corpus-http.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { DeployResult, SlotInvokeResult } from '@islet/sdk'
import { startApp, type TestApp } from './support/app.ts'
import {
  TYPICAL_MISTAKES, badFiles, corpusAppYaml, corpusCase, corpusCases, expectAccepted, expectInvoked, expectRefusedAsExpected, fixedFiles,
  invoked,
} from './support/agent-corpus.ts'

let app: TestApp
let client: Client
beforeAll(async () => {
  app = await startApp({ 'app.yaml': corpusAppYaml() })
  client = new Client({ name: 'agent', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.url}/admin/mcp`)))
}, 60_000)
afterAll(async () => { await client?.close(); await app?.close() })

async function tool<T>(name: string, args: Record<string, unknown>): Promise<{ isError: boolean; result: T }> {
  const r = await client.callTool({ name, arguments: args })
  return { isError: r.isError === true, result: r.structuredContent as unknown as T }
}

describe('the agent corpus through MCP', () => {
  it('has every typical mistake', () => {
    expect(corpusCases).toEqual(expect.arrayContaining(TYPICAL_MISTAKES))
  })

  for (const name of corpusCases) {
    it(`${name}: validate answers the mistake with actionable diagnostics; the fix deploys, goes live and serves`, async () => {
      const { entry = 'index.ts', invoke } = corpusCase(name)
      const bad = await tool<DeployResult>('validate', { slot: name, files: badFiles(name), entry })
      expect(bad.isError, JSON.stringify(bad.result.diagnostics, null, 2)).toBe(true)
      expectRefusedAsExpected(name, bad.result)
      const fixed = await tool<DeployResult>('deploy', { slot: name, files: fixedFiles(name), entry, promote: true, message: 'fixed' })
      expectAccepted(name, fixed.result)
      expect(fixed).toMatchObject({ isError: false, result: { ok: true, promoted: true, version: { status: 'live' } } })
      const answer = await tool<SlotInvokeResult>('invoke', { slot: name, input: invoke.input })
      expectInvoked(name, invoked(answer.result))
    }, 60_000)
  }
})
