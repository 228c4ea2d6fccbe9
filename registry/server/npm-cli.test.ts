// The real npm 11 CLI against the registry on loopback: publish, view, deprecate and unpublish as npm sends them
// (a per-test --userconfig with a bearer token and a per-test --cache; never the user's ~/.npmrc).
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Context } from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyVersion } from '../signature.ts'
import { RegistryHttpError } from './http-error.ts'
import type { Authenticator, Principal } from './principal.ts'
import { startRegistry, type RunningRegistry } from './server.ts'

const ALICE: Principal = { user: 'alice', tokenId: 't1', scopes: ['@acme/*'] }
const auth: Authenticator = {
  async principal(ctx: Context) {
    if (!ctx.get('authorization')) return undefined
    if (ctx.get('authorization') !== 'Bearer alice-token') throw new RegistryHttpError(401, 'ERR_TEST_TOKEN', 'unknown token')
    return ALICE
  },
  async requireWrite(ctx: Context) {
    const who = await this.principal(ctx)
    if (!who) throw new RegistryHttpError(401, 'ERR_TEST_TOKEN', 'log in first')
    return who
  },
}

let root: string
let registry: RunningRegistry

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'islet-registry-npm-'))
  registry = await startRegistry({ dir: join(root, 'registry'), auth })
  const host = registry.url.replace(/^http:/, '')
  writeFileSync(join(root, 'npmrc'), `registry=${registry.url}\n${host}:_authToken=alice-token\n`)
})

afterAll(async () => {
  await registry.close()
  rmSync(root, { recursive: true, force: true })
})

async function npm(cwd: string, ...args: string[]): Promise<string> {
  // Nothing of the caller's npm configuration may leak in (npm run sets npm_config_* for its children).
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)))
  const { stdout } = await promisify(execFile)('npm', [...args, '--userconfig', join(root, 'npmrc'), '--cache', join(root, 'cache')], {
    cwd, env: { ...env, NPM_CONFIG_UPDATE_NOTIFIER: 'false', NPM_CONFIG_FUND: 'false', NPM_CONFIG_AUDIT: 'false' }, timeout: 60_000 })
  return stdout
}

function writePackage(version: string): string {
  const dir = join(root, `geo-${version}`)
  mkdirSync(join(dir, 'components'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: '@acme/geo', version, description: 'Geocoding plugin', type: 'module', files: ['components'], repository: 'github:acme/geo',
    peerDependencies: { '@islet/sdk': '*' }, peerDependenciesMeta: { '@islet/sdk': { optional: true } },
    islet: { engine: '^0.1.0', components: { geocode: { file: 'components/geocode.ts', capabilities: { fetch: ['https://geo.example'] } } } },
  }, null, 2))
  writeFileSync(join(dir, 'components', 'geocode.ts'), 'export default {}\n')
  writeFileSync(join(dir, 'README.md'), '# geo\n')
  return dir
}

describe('the real npm CLI', () => {
  it('publishes, views, deprecates and unpublishes; what npm shows is signed by the registry', async () => {
    expect(await npm(writePackage('1.2.0'), 'publish')).toContain('+ @acme/geo@1.2.0')
    await npm(writePackage('1.3.0'), 'publish')

    const view = JSON.parse(await npm(root, 'view', '@acme/geo@1.2.0', '--json')) as { name: string; islet: unknown; dist: { integrity: string; tarball: string; signatures: { keyid: string; sig: string }[] } }
    expect(view.name).toBe('@acme/geo')
    expect(view.islet).toMatchObject({ engine: '^0.1.0' })
    expect(view.dist.tarball).toBe(`${registry.url}@acme/geo/-/geo-1.2.0.tgz`)
    const key = registry.store.signingKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
    expect(verifyVersion(key, '@acme/geo', '1.2.0', view.dist.integrity, view.dist.signatures[0]!.sig)).toBe(true)

    await npm(root, 'deprecate', '@acme/geo@1.2.0', 'use 1.3')
    expect((await npm(root, 'view', '@acme/geo@1.2.0', 'deprecated')).trim()).toBe('use 1.3')

    expect(await npm(root, 'unpublish', '@acme/geo@1.3.0')).toContain('- @acme/geo@1.3.0')
    expect(JSON.parse(await npm(root, 'view', '@acme/geo', 'versions', '--json'))).toEqual(['1.2.0'])
    expect(registry.store.auditRows('@acme/geo').map((r) => `${r.action} ${r.version}`)).toEqual(['publish 1.2.0', 'publish 1.3.0', 'deprecate 1.2.0', 'unpublish 1.3.0'])

    // A version that existed never comes back, even after unpublish: npm shows the registry's reason.
    const again = await npm(writePackage('1.3.0'), 'publish').then(() => '', (error: { stderr: string }) => error.stderr)
    expect(again).toContain('409 Conflict')
    expect(again).toContain('cannot publish over @acme/geo@1.3.0')
  }, 240_000) // eight npm runs, each a fresh Node: on two busy cores this is the budget
})
