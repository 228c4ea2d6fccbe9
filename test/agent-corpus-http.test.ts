// The agent corpus (test/agent-corpus/README.md) through the admin HTTP API of a running app, as an agent meets it:
// each typical first-try mistake POSTed as JSON to /admin/slots/:slot/versions, first with ?dryRun=1 then for real,
// must be refused (422) with the diagnostics that say how to fix it; the fixed version then deploys with ?promote=1
// (200, live), and the slot answers with the fixed output both through …/invoke and through a real route whose
// pipeline calls it. One case also goes through `islet deploy` (the real CLI, a child process), which must print the
// same diagnostics. The checks are test/support/agent-corpus.ts's, shared with the validateDeployment and MCP suites.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeployResult, SlotInfo, SlotInvokeResult } from '@islet/sdk'
import { startApp, type TestApp } from './support/app.ts'
import { isletAsync } from './support/cli.ts'
import {
  CORPUS, TYPICAL_MISTAKES, badFiles, corpusAppYaml, corpusCase, corpusCases, expectAccepted, expectInvoked, expectRefusedAsExpected,
  fixedFiles, invoked,
} from './support/agent-corpus.ts'

let app: TestApp
beforeAll(async () => { app = await startApp({ 'app.yaml': corpusAppYaml() }) }, 60_000)
afterAll(async () => { await app?.close() })

/** A JSON request to the running app; the answer's status and JSON body. */
async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${app.url}${path}`, {
    method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  })
  return { status: res.status, body: await res.json() }
}

const deploy = (slot: string, files: Record<string, string>, query: string, entry?: string) =>
  call('POST', `/admin/slots/${slot}/versions${query}`, { files, ...(entry ? { entry } : {}), message: `${slot} ${query || 'stage'}` })

describe('the agent corpus through the admin HTTP API', () => {
  it('has every typical mistake', () => {
    expect(corpusCases).toEqual(expect.arrayContaining(TYPICAL_MISTAKES))
  })

  for (const name of corpusCases) {
    it(`${name}: 422 with actionable diagnostics (dry run and stored), then the fix deploys, goes live and serves`, async () => {
      const { entry, invoke } = corpusCase(name)

      const dry = await deploy(name, badFiles(name), '?dryRun=1', entry)
      expect(dry.status, JSON.stringify(dry.body)).toBe(422)
      const dryResult = dry.body as DeployResult
      expect(dryResult).toMatchObject({ ok: false, slot: name, dryRun: true, promoted: false })
      expect(dryResult.version).toBeUndefined()
      expectRefusedAsExpected(name, dryResult)

      const stored = await deploy(name, badFiles(name), '', entry)
      expect(stored.status, JSON.stringify(stored.body)).toBe(422)
      const storedResult = stored.body as DeployResult
      expect(storedResult).toMatchObject({ ok: false, dryRun: false, promoted: false, version: { status: 'rejected' } })
      expectRefusedAsExpected(name, storedResult)
      // The dry run and the stored attempt said the same of the same files.
      expect(storedResult.diagnostics).toEqual(dryResult.diagnostics)

      const fixed = await deploy(name, fixedFiles(name), '?promote=1', entry)
      expect(fixed.status, JSON.stringify(fixed.body)).toBe(200)
      const fixedResult = fixed.body as DeployResult
      expectAccepted(name, fixedResult)
      expect(fixedResult).toMatchObject({ ok: true, promoted: true, version: { status: 'live' } })
      const info = await call('GET', `/admin/slots/${name}`)
      expect((info.body as SlotInfo).live).toBe(fixedResult.version!.id)

      const viaAdmin = await call('POST', `/admin/slots/${name}/invoke`, { input: invoke.input })
      expect(viaAdmin.status).toBe(200)
      expect((viaAdmin.body as SlotInvokeResult).version).toBe(fixedResult.version!.id)
      expectInvoked(name, invoked(viaAdmin.body as SlotInvokeResult))

      const viaRoute = await call('POST', `/run/${name}`, invoke.input)
      expectInvoked(name, viaRoute.status === 200
        ? { ok: true, output: viaRoute.body }
        : { ok: false, errorCode: viaRoute.body?.error?.code })
    }, 60_000)
  }
})

describe('islet deploy (the real CLI) against the same API', () => {
  it('prints the diagnostics the API answers, each as file:line:col severity CODE message (hint), and exits 1', async () => {
    const name = 'kv-put'
    const api = await deploy(name, badFiles(name), '?dryRun=1')
    const expected = (api.body as DeployResult).diagnostics
    expect(expected.length).toBeGreaterThan(0)
    const cli = await isletAsync(['deploy', name, 'bad', '--dry-run', '--url', app.url], { cwd: join(CORPUS, name), env: { ISLET_TOKEN: '' } })
    expect(cli.status, cli.stderr).toBe(1)
    const lines = cli.stdout.split('\n')
    for (const d of expected) {
      // The CLI names the local file it sent (bad/index.ts), the API the path in the deployment (index.ts).
      const where = d.file === null ? '' : d.line === null ? `bad/${d.file} ` : `bad/${d.file}:${d.line}:${d.column} `
      expect(lines, cli.stdout).toContain(`${where}${d.severity} ${d.code} ${d.message}${d.hint ? ` (${d.hint})` : ''}`)
    }
    // The one the case is about, as an agent reading the terminal sees it.
    expect(cli.stdout).toContain("bad/index.ts:10:18 error ERR_COMPONENT_TYPE TS2339: Property 'put' does not exist on type 'KvCapability'. (ctx.kv has get, getEntry, set, increment, delete, list (no put))")
  }, 60_000)
})
