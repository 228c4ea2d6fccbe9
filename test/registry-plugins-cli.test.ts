// Registry plugins under the `islet` command: deprecated and yanked versions as `islet run` and `islet plugin list|
// upgrade` report them, `islet dev` moving to a new locked version (or refusing a bad one and serving on), and
// `islet run` failing closed on a tampered vendored tarball, extracted folder or signature. Split from
// registry-plugins.test.ts (same fixtures, test/support/registry-plugin-apps.ts) so that the two files run in parallel.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { json } from './support/app.ts'
import { islet, isletAsync, spawnIslet } from './support/cli.ts'
import { writeFiles } from './support/files.ts'
import { createSigningKey } from '../registry/signature.ts'
import { lockPlugin, packPlugin, publishPlugin, readLockFile, TEST_KEY, withEmbeddedRegistry } from './support/registry-plugin.ts'
import { at, errors, GEO_APP, geo, load, post, SHOUT_APP, shout } from './support/registry-plugin-apps.ts'
import { until } from './support/until.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

function app(files: Record<string, string>): string {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  return dir
}

describe('registry plugins: deprecated and yanked versions stay locked, with a warning at load', () => {
  it('a deprecation known when locking is recorded in islet.lock; each load warns with it, with no registry to ask', async () => {
    const yaml = GEO_APP()
    const dir = app({ 'app.yaml': yaml })
    const data = join(dir, 'data')
    await publishPlugin(data, geo('1.0.0'))
    withEmbeddedRegistry(data, (r) => r.deprecate('@acme/geo', '1.0.0', 'use 2.x: 1.x puts Paris in Texas', 'test'))
    const first = await load(dir)
    expect(first.config).toBeDefined()
    expect(readLockFile(dir).plugins['@acme/geo']).toMatchObject({ version: '1.0.0', deprecated: 'use 2.x: 1.x puts Paris in Texas' })
    const message = '@acme/geo@1.0.0 is deprecated: use 2.x: 1.x puts Paris in Texas'
    expect(first.diagnostics.filter((d) => d.code === 'ERR_PLUGIN_DEPRECATED')).toMatchObject([{ severity: 'warning', ...at(yaml, '^1.0.0'), message }])

    // The registry gone, the tarball cached: islet run loads the locked version, logs the warning, and serves.
    rmSync(join(data, 'registry'), { recursive: true, force: true })
    const run = spawnIslet(['run', 'app.yaml', '--frozen-lockfile', '--data-dir', data], { cwd: dir })
    try {
      const warning = await run.waitFor((l) => (l.diagnostic as { code?: string } | undefined)?.code === 'ERR_PLUGIN_DEPRECATED', 30_000)
      expect(warning.msg).toBe(message)
      const url = String((await run.waitFor((l) => typeof l.url === 'string', 30_000)).url)
      expect(await post(`${url}/geo`, { q: 'paris' })).toEqual({ place: 'PARIS', by: 'geocode 1.0.0' })
    } finally {
      run.child.kill('SIGTERM')
      await run.exited
    }
  }, 60_000)

  it('a yank or deprecation after locking is recorded by islet plugin list and upgrade; the yanked version still loads, with a warning', async () => {
    const yaml = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\n  '@acme/shout': { version: ^2.0.0, host: true }\n"
    const dir = app({ 'app.yaml': yaml })
    const data = join(dir, 'data')
    await publishPlugin(data, geo('1.0.0'))
    await publishPlugin(data, shout())
    expect((await load(dir)).config).toBeDefined()
    expect(readLockFile(dir).plugins['@acme/geo']!.yanked).toBeUndefined()

    withEmbeddedRegistry(data, (r) => r.yank('@acme/geo', '1.0.0', 'leaks the api key', 'test'))
    const list = islet(['plugin', 'list', 'app.yaml', '--data-dir', data], { cwd: dir })
    expect(list.status).toBe(0)
    expect(list.stdout).toContain('YANKED: leaks the api key')
    expect(list.stdout).toContain('! @acme/geo@1.0.0 yanked: leaks the api key (recorded in the lock; the app warns about it at load)')
    expect(readLockFile(dir).plugins['@acme/geo']).toMatchObject({ version: '1.0.0', yanked: 'leaks the api key' })
    const yanked = await load(dir, true)
    expect(yanked.config).toBeDefined()
    expect(yanked.diagnostics).toMatchObject([{ severity: 'warning', code: 'ERR_PLUGIN_YANKED', ...at(yaml, '^1.0.0'),
      message: '@acme/geo@1.0.0 is yanked: leaks the api key; it loads because islet.lock pins it, and no range would choose it again',
      hint: 'move to another version: islet plugin upgrade @acme/geo, with --latest to cross a major version' }])

    // Upgrading one plugin refreshes what the others' registry now says about them.
    await publishPlugin(data, geo('1.0.1'))
    withEmbeddedRegistry(data, (r) => r.deprecate('@acme/shout', '2.0.0', 'use @acme/yell', 'test'))
    const upgrade = islet(['plugin', 'upgrade', '@acme/geo', 'app.yaml', '--data-dir', data], { cwd: dir })
    expect(upgrade.status).toBe(0)
    expect(upgrade.stdout).toContain('~ @acme/geo 1.0.0 → 1.0.1')
    expect(upgrade.stdout).toContain('! @acme/shout@2.0.0 deprecated: use @acme/yell')
    const lock = readLockFile(dir)
    expect(lock.plugins['@acme/geo']).not.toHaveProperty('yanked')
    expect(lock.plugins['@acme/shout']).toMatchObject({ version: '2.0.0', deprecated: 'use @acme/yell' })
    expect((await load(dir, true)).diagnostics).toMatchObject([{ severity: 'warning', code: 'ERR_PLUGIN_DEPRECATED',
      message: '@acme/shout@2.0.0 is deprecated: use @acme/yell' }])
  }, 60_000)
})

// In series: run concurrently (three `islet dev` with their sandbox workers at once) on a loaded 2-core machine, one
// of them once used up its whole 90 s.
describe('registry plugins under islet dev', () => {
  it('a new version in islet.lock reloads the app with it; a version that fails to load leaves the running one serving', async () => {
    const dir = app({ 'app.yaml': GEO_APP() })
    const data = join(dir, 'data')
    await lockPlugin(dir, data, geo('1.0.0'))
    const dev = spawnIslet(['dev', 'app.yaml', '--data-dir', data], { cwd: dir })
    try {
      const url = String((await dev.waitFor((l) => typeof l.url === 'string', 30_000)).url)
      await dev.waitFor((l) => String(l.raw ?? '').startsWith('watching'), 30_000)
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.0.0' })

      await lockPlugin(dir, data, geo('1.1.0'))
      await dev.waitFor((l) => /^config reloaded in \d+ ms \(generation 2\)/.test(String(l.raw ?? '')), 30_000)
      await until(async () => (await post(`${url}/geo`, { q: 'oslo' })).by === 'geocode 1.1.0', { ms: 30_000, explain: dev.stderr })

      await lockPlugin(dir, data, geo('1.2.0', { engine: '^9.0.0' }))
      await until(() => /config change rejected[^]*ERR_PLUGIN_ENGINE_MISMATCH[^]*@acme\/geo@1\.2\.0 needs islet \^9\.0\.0/.test(dev.stderr()),
        { ms: 30_000, explain: dev.stderr })
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.1.0' })
    } finally {
      dev.child.kill('SIGTERM')
      await dev.exited
    }
  }, 180_000) // a dev start and its reloads, each waited for up to 30 s: the budget is their sum

  it('a new lock pointing at a tampered tarball is refused with ERR_REGISTRY_INTEGRITY, and the old generation keeps serving', async () => {
    const dir = app({ 'app.yaml': GEO_APP() })
    const data = join(dir, 'data')
    await lockPlugin(dir, data, geo('1.0.0'))
    const dev = spawnIslet(['dev', 'app.yaml', '--data-dir', data], { cwd: dir })
    try {
      const url = String((await dev.waitFor((l) => typeof l.url === 'string', 30_000)).url)
      await dev.waitFor((l) => String(l.raw ?? '').startsWith('watching'), 30_000)
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.0.0' })

      // The tarball is in islet-vendor/ before the lock names it: one byte differs from what the lock pins.
      await lockPlugin(dir, data, geo('1.1.0'), { tamper: (bytes) => { bytes[bytes.length - 10]! ^= 0x01; return bytes } })
      await until(() => /config change rejected[^]*ERR_REGISTRY_INTEGRITY[^]*@acme\/geo@1\.1\.0/.test(dev.stderr()), { ms: 30_000, explain: dev.stderr })
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.0.0' })

      // A good lock again: the reload goes through, and the new generation's warnings are logged as at start.
      await lockPlugin(dir, data, geo('1.2.0'), { standing: { deprecated: 'use 2.x' } })
      const warning = await dev.waitFor((l) => (l.diagnostic as { code?: string } | undefined)?.code === 'ERR_PLUGIN_DEPRECATED', 30_000)
      expect(warning.msg).toBe('@acme/geo@1.2.0 is deprecated: use 2.x')
      expect(await post(`${url}/geo`, { q: 'oslo' })).toEqual({ place: 'OSLO', by: 'geocode 1.2.0' })
    } finally {
      dev.child.kill('SIGTERM')
      await dev.exited
    }
  }, 180_000) // a dev start and its reloads, each waited for up to 30 s: the budget is their sum

  it('host code: a new version in islet.lock is imported beside the old one and the step using it restarts with it', async () => {
    const dir = app({ 'app.yaml': SHOUT_APP('{ version: ^2.0.0, host: true }') })
    const data = join(dir, 'data')
    await lockPlugin(dir, data, shout())
    const dev = spawnIslet(['dev', 'app.yaml', '--data-dir', data], { cwd: dir })
    try {
      const url = String((await dev.waitFor((l) => typeof l.url === 'string', 30_000)).url)
      await dev.waitFor((l) => String(l.raw ?? '').startsWith('watching'), 30_000)
      expect(await json(await fetch(`${url}/shout`))).toEqual({ shouted: 'HI', by: 'shout 2.0.0' })

      await lockPlugin(dir, data, shout({}, '2.1.0'))
      await dev.waitFor((l) => /^config reloaded in \d+ ms \(generation 2\)/.test(String(l.raw ?? '')), 30_000)
      expect(await json(await fetch(`${url}/shout`))).toEqual({ shouted: 'HI', by: 'shout 2.1.0' })
    } finally {
      dev.child.kill('SIGTERM')
      await dev.exited
    }
  }, 180_000) // a dev start and its reloads, each waited for up to 30 s: the budget is their sum
})


// Each test has its own app and data dir, and waits on `islet run` children: they run concurrently (the context's expect).
describe.concurrent('registry plugins: verification fails closed (islet run)', () => {
  const YAML = "apiVersion: islet/v1\nplugins:\n  '@acme/geo': ^1.0.0\n"
  const run = (dir: string) => isletAsync(['run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir })
  const where = (yaml: string, needle: string) => { const p = at(yaml, needle); return `app.yaml:${p.line}:${p.col}` }

  it('a vendored tarball with one byte changed is refused, with both integrities', async ({ expect }) => {
    const dir = app({ 'app.yaml': YAML })
    const { file, entry } = await lockPlugin(dir, join(dir, 'data'), geo())
    const bytes = readFileSync(file)
    bytes[bytes.length - 10] ^= 0x01
    writeFileSync(file, bytes)
    const r = await run(dir)
    expect(r.status).toBe(1)
    expect(r.stdout + r.stderr).toContain(`${where(YAML, '^1.0.0')} error ERR_REGISTRY_INTEGRITY the tarball of @acme/geo@1.0.0 from ${file} hashes to sha512-`)
    expect(r.stdout + r.stderr).toContain(`but islet.lock pins ${entry.integrity}: refused; restore ${file} from version control (it ships with the app), or run \`islet plugin vendor\` to copy a verified one over it`)
  })

  it('a vendored tarball with one file added is refused', async ({ expect }) => {
    const dir = app({ 'app.yaml': YAML })
    const { file, entry } = await lockPlugin(dir, join(dir, 'data'), geo())
    const added = await packPlugin({ ...geo(), files: { ...geo().files, 'components/extra.ts': 'export default 1\n' } })
    writeFileSync(file, added.tarball)
    const r = await run(dir)
    expect(r.status).toBe(1)
    expect(r.stdout + r.stderr).toContain(`ERR_REGISTRY_INTEGRITY the tarball of @acme/geo@1.0.0 from ${file} hashes to ${added.integrity}, but islet.lock pins ${entry.integrity}`)
  })

  it('an extracted folder with a file added after verification is refused, naming the file', async ({ expect }) => {
    const dir = app({ 'app.yaml': YAML })
    await lockPlugin(dir, join(dir, 'data'), geo())
    const first = await load(dir)
    expect(errors(first.diagnostics)).toEqual([])
    const extracted = join(dir, 'data', 'plugins', 'packages', '@acme')
    const [folder] = readdirSync(extracted)
    writeFileSync(join(extracted, folder!, 'components', 'backdoor.ts'), 'export default 1\n')
    const r = await run(dir)
    expect(r.status).toBe(1)
    expect(r.stdout + r.stderr).toContain(`${where(YAML, '^1.0.0')} error ERR_REGISTRY_TAMPERED the extracted folder of @acme/geo@1.0.0 (${join(extracted, folder!)}) differs from its verified tarball (added: components/backdoor.ts)`)
  })

  it('a signature by a key the lock does not pin is refused: an unknown key id, or the pinned id over another key\'s signature', async ({ expect }) => {
    const other = createSigningKey()
    const dir = app({ 'app.yaml': YAML })
    await lockPlugin(dir, join(dir, 'data'), geo(), { key: other, pinned: TEST_KEY })
    const lockText = readFileSync(join(dir, 'islet.lock'), 'utf8')
    const r = await run(dir)
    expect(r.status).toBe(1)
    const p = at(lockText, `"keyid": "${other.keyid}"`)
    expect(r.stdout + r.stderr).toContain(`ERR_REGISTRY_LOCK_INVALID ${join(dir, 'islet.lock')}:${p.line}:${p.col + '"keyid": '.length}: islet.lock plugins["@acme/geo"].keyid ${other.keyid} is not pinned under "keys"`)

    // The entry names the pinned key, but the signature is another key's.
    const lock = readLockFile(dir)
    lock.plugins['@acme/geo']!.keyid = TEST_KEY.keyid
    writeFileSync(join(dir, 'islet.lock'), JSON.stringify(lock, null, 2))
    const again = await run(dir)
    expect(again.status).toBe(1)
    expect(again.stdout + again.stderr).toContain(`${where(YAML, '^1.0.0')} error ERR_REGISTRY_SIGNATURE @acme/geo@1.0.0: the signature does not verify with key ${TEST_KEY.keyid}`)
  })
})
