// A deployer's token in hostile hands: file sets that are valid strings but not a valid folder (names the disk
// refuses, a file that is also a folder, names differing only in case, control characters forging diagnostic lines)
// are refused as ERR_DEPLOY_FILES (422) naming the path — never an fs error (500) that leaves no audit row — and
// a token trying a slot it was not given leaves a refused row in that slot's audit.
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { applyPatch } from 'diff'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Principal, SlotsService } from '@islet/sdk'
import { MAX_WAITING } from '../../runtime/slots/service.ts'
import { startApp, type TestApp } from '../support/app.ts'
import { ADMIN, DEPLOYER, pricing, probe } from '../support/slots.ts'

const APP = `apiVersion: islet/v1
components:
  - slot: pricing
    deployers: ['deploy:pricing']
  - slot: billing
    deployers: ['deploy:billing']
modules:
  - name: probe
    type: acme.slots-probe
  - name: web
    type: http.server
    config: { port: 0 }
`

let app: TestApp
beforeAll(async () => { app = await startApp({ 'app.yaml': APP }, { plugins: [probe] }) }, 60_000)
afterAll(() => app?.close())
const slots = () => app.engine.module<{ slots: SlotsService }>('probe').slots
const deploy = (files: Record<string, string>, dryRun = false) => slots().deploy('pricing', { files, dryRun }, DEPLOYER)
const LIB = 'export const x = 1\n'

describe('deploy files that cannot form a folder', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['a 300-byte file name', { [`${'a'.repeat(300)}.ts`]: LIB }, /too long|longer than/],
    ['a 200-character name of 2-byte characters (400 bytes)', { [`${'ä'.repeat(200)}.ts`]: LIB }, /too long|longer than/],
    ['a path 2,000 folders deep', { [`${'d/'.repeat(2000)}x.ts`]: LIB }, /too long|longer than/],
    ['a file that is also a folder', { 'lib.ts': LIB, 'lib.ts/x.ts': LIB }, /is sent as a file and is also the folder of/],
    ['two names differing only in case', { 'Rates.ts': LIB, 'rates.ts': LIB }, /differ only in letter case/],
    ['a newline in a name', { 'a\nindex.ts:1:1 error ERR_FAKE forged.ts': LIB }, /control/],
  ]
  for (const [what, extra, message] of cases) {
    it(`refuses ${what}: ERR_DEPLOY_FILES, nothing stored, audited`, async () => {
      for (const dryRun of [true, false]) {
        const result = await deploy({ 'index.ts': pricing(1), ...extra }, dryRun)
        expect(result.ok).toBe(false)
        expect(result.version).toBeUndefined()
        expect(result.diagnostics.map((d) => d.code)).toContain('ERR_DEPLOY_FILES')
        expect(result.diagnostics.find((d) => d.code === 'ERR_DEPLOY_FILES')!.message).toMatch(message)
        expect(slots().audit(ADMIN, { slot: 'pricing', limit: 1 })[0]).toMatchObject({ action: dryRun ? 'dry-run' : 'deploy', result: 'refused' })
      }
    })
  }

  it('still deploys a sound set of files afterwards', async () => {
    const result = await deploy({ 'index.ts': pricing(1), 'lib/rates.ts': LIB }, true)
    expect(result.ok, JSON.stringify(result.diagnostics)).toBe(true)
  })
})

describe('a token for one slot against another', () => {
  it('is refused, and each attempt is in the audit of the slot it tried', async () => {
    const other: Principal = DEPLOYER
    const refusals = [
      slots().deploy('billing', { files: { 'index.ts': pricing(1) } }, other),
      slots().deploy('billing', { files: { 'index.ts': pricing(1) }, dryRun: true }, other),
      slots().promote('billing', 1, other),
      slots().rollback('billing', other),
      slots().invoke('billing', {}, other),
    ]
    for (const r of refusals) await expect(r).rejects.toMatchObject({ code: 'ERR_ADMIN_FORBIDDEN' })
    const rows = slots().audit(ADMIN, { slot: 'billing' })
    for (const r of rows) expect(r.principal).toContain(DEPLOYER.subject)
    expect(rows.map((r) => [r.action, r.result]).sort()).toEqual([
      ['deploy', 'refused'], ['dry-run', 'refused'], ['invoke', 'refused'], ['promote', 'refused'], ['rollback', 'refused'],
    ])
    expect(rows[0]!.detail).toContain('deploy:billing')
  })
})

describe('what dry runs and refused deploys leave on disk', () => {
  it('a dry run leaves no tree behind, a refused deploy keeps its files once (objects) and no tree', async () => {
    const trees = join(app.dir, 'data', 'slots', 'trees', 'pricing')
    const count = () => (existsSync(trees) ? readdirSync(trees).length : 0)
    const before = count()
    for (let i = 0; i < 5; i++) {
      const r = await deploy({ 'index.ts': pricing(100 + i), 'padding.ts': `export const pad = '${'x'.repeat(100_000)}${i}'\n` }, true)
      expect(r.ok, JSON.stringify(r.diagnostics)).toBe(true)
    }
    const refused = await deploy({ 'index.ts': 'export default 1 +\n' })
    expect(refused.ok).toBe(false)
    expect(count()).toBe(before)
    // The refused version's sources are still there to read.
    expect(slots().source('pricing', refused.version!.id, ADMIN)).toEqual({ 'index.ts': 'export default 1 +\n' })
    // A staged version's tree stays (promotion compiles it).
    const staged = await deploy({ 'index.ts': pricing(200) })
    expect(staged.ok).toBe(true)
    expect(count()).toBe(before + 1)
  })
})

describe('the diff between two versions', () => {
  it('of two large files with nothing in common comes back at once, as a whole-file patch that applies', async () => {
    // 20,000 lines each, no line shared: a plain Myers diff holds the engine's event loop for minutes.
    const version = (tag: string) => Array.from({ length: 20_000 }, (_, i) => `// ${tag}${i}`).join('\n') + '\n'
    const a = await deploy({ 'index.ts': pricing(1), 'data.ts': version('a') })
    const b = await deploy({ 'index.ts': pricing(1), 'data.ts': version('b') })
    const text = slots().diff('pricing', a.version!.id, b.version!.id, ADMIN)
    expect(text.startsWith('diff --git a/data.ts b/data.ts\n--- a/data.ts\n+++ b/data.ts\n@@ -1,20000 +1,20000 @@\n')).toBe(true)
    expect(applyPatch(version('a'), text.slice(text.indexOf('\n') + 1))).toBe(version('b'))
    // A small change is still a small patch.
    const c = await deploy({ 'index.ts': pricing(1), 'data.ts': version('b').replace('// b7\n', '// seven\n') })
    expect(slots().diff('pricing', b.version!.id, c.version!.id, ADMIN)).toContain('@@ -5,7 +5,7 @@\n // b4\n // b5\n // b6\n-// b7\n+// seven\n')
  }, 30_000)
})

describe('a flood of concurrent deploys', () => {
  it('queues at most MAX_WAITING changes of a slot; the rest are refused at once (429 ERR_SLOT_BUSY, audited)', async () => {
    const files = { 'index.ts': pricing(1), 'padding.ts': `export const pad = '${'x'.repeat(200_000)}'\n` }
    const calls = Array.from({ length: MAX_WAITING + 12 }, () => slots().deploy('pricing', { files, dryRun: true }, DEPLOYER).then(
      (r) => r.ok ? 'ok' : 'refused', (e: { code?: string; details?: { status?: number } }) => `${e.code} ${e.details?.status}`))
    const outcomes = await Promise.all(calls)
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(MAX_WAITING)
    expect(outcomes.filter((o) => o === 'ERR_SLOT_BUSY 429')).toHaveLength(12)
    expect(slots().audit(ADMIN, { slot: 'pricing', limit: 50 }).filter((r) => r.detail?.startsWith('busy:'))).toHaveLength(12)
    // Once they are done, the slot takes deploys again.
    expect((await deploy(files, true)).ok).toBe(true)
  }, 120_000)
})
