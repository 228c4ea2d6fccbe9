// ctx.resolvePath as module and step code get it: paths resolve against the declaring file's folder and may not
// leave the app folder, as written or through a symlink.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { confinedResolver } from './confine.ts'

const root = mkdtempSync(join(tmpdir(), 'islet-confine-'))
const app = join(root, 'app')
const outside = join(root, 'outside')
mkdirSync(join(app, 'conf'), { recursive: true })
mkdirSync(outside)
writeFileSync(join(outside, 'secret.txt'), 'secret')
symlinkSync(outside, join(app, 'conf', 'link'))
// A link whose target does not exist yet: opening it for writing (a database file) would create the target outside.
symlinkSync(join(outside, 'not-yet.db'), join(app, 'conf', 'dangling.db'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('confinedResolver', () => {
  const resolvePath = confinedResolver(join(app, 'conf'), app)

  it('resolves paths inside the app folder against the declaring folder', () => {
    expect(resolvePath('./migrations')).toBe(join(app, 'conf', 'migrations'))
    expect(resolvePath('../data.csv')).toBe(join(app, 'data.csv'))
  })

  it('refuses a path that leaves the app folder as written', () => {
    expect(() => resolvePath('../../outside/secret.txt')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_PATH_OUTSIDE' }))
    expect(() => resolvePath('/etc/passwd')).toThrow(/is outside the app folder/)
  })

  it('refuses a path that leaves it through a symlink', () => {
    expect(() => resolvePath('./link/secret.txt')).toThrow(/through a symlink/)
  })

  it('refuses a dangling symlink whose target would be created outside', () => {
    expect(() => resolvePath('./dangling.db')).toThrow(/through a symlink/)
  })
})
