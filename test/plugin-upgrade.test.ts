// `islet plugin upgrade` on the flagship example, whose only plugin is vendored and on no registry: upgrading all
// keeps it as locked (nothing newer can be found) instead of failing to find it, and `upgrade app.yaml` names the app.
// Reading an embedded registry nobody published to creates nothing.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { islet } from './support/cli.ts'

const work = mkdtempSync(join(tmpdir(), 'islet-plugin-upgrade-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('islet plugin upgrade', () => {
  it('keeps a vendored plugin no registry has, says so, and leaves the lock as it was', () => {
    const app = join(work, 'orders')
    cpSync(join(import.meta.dirname, '..', 'examples', 'orders'), app, { recursive: true, filter: (p) => !p.includes(`${join('orders', 'data')}`) })
    const before = readFileSync(join(app, 'islet.lock'), 'utf8')
    // --yes as scripts pass it to every plugin command: upgrade never asks, and takes it.
    const r = islet(['plugin', 'upgrade', 'app.yaml', '--yes', '--data-dir', join(work, 'data')], { cwd: app })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/@islet-examples\/shipping@1\.0\.0 kept: embedded does not have it \(vendored, or published elsewhere\)/)
    expect(readFileSync(join(app, 'islet.lock'), 'utf8')).toBe(before)
    // Looking in the embedded registry created nothing: no database, no signing key for a registry nobody uses.
    expect(existsSync(join(work, 'data', 'registry'))).toBe(false)
  })
})
