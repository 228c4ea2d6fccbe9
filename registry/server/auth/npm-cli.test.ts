// The real npm 11 CLI against the auth routes, ping, search and dist-tags on loopback, with its own userconfig,
// globalconfig and cache in a temp folder (never the user's ~/.npmrc).
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { createUser, revokeToken } from './index.ts'
import { seedPackage, startTestRegistry, type TestRegistry } from './test-fixture.ts'

let registry: TestRegistry
let home: string

beforeAll(async () => {
  registry = await startTestRegistry({ port: 0 })
  createUser(registry.db, 'alice', 'correct horse')
  createUser(registry.db, 'bob', 'battery staple')
  seedPackage(registry.db, '@alice/geo', 'alice', [
    { version: '1.0.0', description: 'Geocoding for Islet apps', keywords: ['geo'] },
    { version: '1.1.0', description: 'Geocoding for Islet apps', keywords: ['geo'] },
  ])
  seedPackage(registry.db, 'bobs-tiles', 'bob', [{ version: '1.0.0', description: 'map tiles' }])
  home = mkdtempSync(join(tmpdir(), 'islet-auth-npm-'))
  writeFileSync(join(home, 'globalrc'), '')
})
afterAll(async () => {
  await registry?.close()
  if (home) rmSync(home, { recursive: true, force: true })
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs npm with this test's config only; `answers` are typed in as each prompt appears (npm reads each with a fresh readline, so piping them all at once loses the second). */
function npm(args: string[], answers: [prompt: string, answer: string][] = [], userconfig = join(home, 'npmrc')): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)))
  const child = spawn('npm', [...args, '--registry', registry.url, '--userconfig', userconfig, '--globalconfig', join(home, 'globalrc'),
    '--cache', join(home, 'cache'), '--update-notifier=false', '--color=false'], { cwd: home, env, stdio: ['pipe', 'pipe', 'pipe'] })
  const run: Run = { code: null, stdout: '', stderr: '' }
  const pending = [...answers]
  let output = ''
  let from = 0 // where to look for the next prompt: after the one answered last
  const answer = (): void => {
    const next = pending[0]
    const at = next ? output.indexOf(next[0], from) : -1
    if (next && at >= 0) {
      pending.shift()
      from = at + next[0].length
      child.stdin.write(`${next[1]}\n`)
      answer()
    }
  }
  child.stdout.on('data', (data: Buffer) => { run.stdout += data; output += data; answer() })
  child.stderr.on('data', (data: Buffer) => { run.stderr += data; output += data; answer() })
  if (answers.length === 0) child.stdin.end()
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ ...run, code }))
  })
}

// Each npm start costs about a second: calls that do not depend on each other run together (Promise.all), and tests
// with their own userconfig that do not move the registry's clock run concurrently (it.concurrent, the context's
// expect) with their neighbour.
describe('the real npm CLI', () => {
  it.concurrent('npm login --auth-type=legacy stores a registry token; whoami, ping and search work with it', async ({ expect }) => {
    const login = await npm(['login', '--auth-type=legacy'], [['Username:', 'alice'], ['Password:', 'correct horse']])
    expect(login.code, login.stderr).toBe(0)
    expect(readFileSync(join(home, 'npmrc'), 'utf8')).toMatch(/:_authToken=ey/)
    const [whoami, ping, search] = await Promise.all([npm(['whoami']), npm(['ping']), npm(['search', 'geocoding'])])
    expect([whoami.code, whoami.stdout.trim()]).toEqual([0, 'alice'])
    expect(ping.code, ping.stderr).toBe(0)
    expect(ping.stderr).toContain('PONG')
    expect(search.code, search.stderr).toBe(0)
    expect(search.stdout).toMatch(/@alice\/geo[\s\S]*Version 1\.1\.0 published \d{4}-\d\d-\d\d by alice/)
  })

  it.concurrent('a wrong password fails the login with the registry\'s message', async ({ expect }) => {
    const login = await npm(['login', '--auth-type=legacy'], [['Username:', 'alice'], ['Password:', 'wrong horse']], join(home, 'wrong-npmrc'))
    expect(login.code).not.toBe(0)
    expect(login.stderr).toContain('wrong user name or password')
  })

  it('npm dist-tag ls, add and rm on a package the login covers; add on a name someone else owns is 403 naming scopes and package', async () => {
    // add, ls and rm build on each other; the refused add on bob's package runs beside them.
    const foreignRun = npm(['dist-tag', 'add', 'bobs-tiles@1.0.0', 'stable'])
    const add = await npm(['dist-tag', 'add', '@alice/geo@1.0.0', 'stable'])
    expect([add.code, add.stdout.trim()], add.stderr).toEqual([0, '+stable: @alice/geo@1.0.0'])
    const ls = await npm(['dist-tag', 'ls', '@alice/geo'])
    expect(ls.stdout).toMatch(/latest: 1\.1\.0\s+stable: 1\.0\.0/)
    const rm = await npm(['dist-tag', 'rm', '@alice/geo', 'stable'])
    expect([rm.code, rm.stdout.trim()]).toEqual([0, '-stable: @alice/geo@1.0.0'])
    const foreign = await foreignRun
    expect(foreign.code).not.toBe(0)
    expect(foreign.stderr).toMatch(/403 Forbidden .* may write @alice\/\*, which does not cover bobs-tiles/)
  })

  it('an expired token is refused with when it expired and how to get a new one; plain `npm login` then gets a new one', async () => {
    const start = registry.clock.now
    registry.clock.now = new Date(start.getTime() + 31 * 86400_000) // login tokens live 30 days
    try {
      const whoami = await npm(['whoami'])
      expect(whoami.code).not.toBe(0)
      expect(whoami.stderr).toMatch(/401 Unauthorized .* the token expired at .*npm login.*islet registry token create/)
      const login = await npm(['login'], [['Username:', 'alice'], ['Password:', 'correct horse']]) // web login first, then the prompts
      expect(login.code, login.stderr).toBe(0)
      expect((await npm(['whoami'])).stdout.trim()).toBe('alice')
    } finally {
      registry.clock.now = start
    }
  })

  it('a revoked token is refused on the next request', async () => {
    expect((await npm(['whoami'])).code).toBe(0)
    const { jti } = decodeJwt(/:_authToken=(\S+)/.exec(readFileSync(join(home, 'npmrc'), 'utf8'))![1]!)
    revokeToken(registry.db, jti!)
    const add = await npm(['dist-tag', 'add', '@alice/geo@1.0.0', 'stable'])
    expect(add.code).not.toBe(0)
    expect(add.stderr).toMatch(/401 Unauthorized .* was revoked/)
    expect((await npm(['dist-tag', 'ls', '@alice/geo'])).stdout).not.toContain('stable')
  })

  it.concurrent('npm logout gives the token up: the registry refuses it from then on', async ({ expect }) => {
    const npmrc = join(home, 'bob-npmrc')
    expect((await npm(['login', '--auth-type=legacy'], [['Username:', 'bob'], ['Password:', 'battery staple']], npmrc)).code).toBe(0)
    const token = /:_authToken=(\S+)/.exec(readFileSync(npmrc, 'utf8'))![1]!
    const logout = await npm(['logout'], [], npmrc)
    expect(logout.code, logout.stderr).toBe(0)
    const response = await fetch(new URL('/-/whoami', registry.url), { headers: { authorization: `Bearer ${token}` } })
    expect([response.status, ((await response.json()) as { code: string }).code]).toEqual([401, 'ERR_REGISTRY_TOKEN_REVOKED'])
  })

  it.concurrent('npm token create (never wider than the asking token), list and revoke manage the user\'s own tokens', async ({ expect }) => {
    const npmrc = join(home, 'tokens-npmrc')
    expect((await npm(['login', '--auth-type=legacy'], [['Username:', 'alice'], ['Password:', 'correct horse']], npmrc)).code).toBe(0)
    const create = await npm(['token', 'create', '--password', 'correct horse', '--packages', '@alice/geo', '--expires', '7'], [], npmrc)
    expect(create.code, create.stderr).toBe(0)
    const created = /Created token (\S+)/.exec(create.stdout)![1]!
    const { jti, scopes } = decodeJwt(created)
    expect(scopes).toEqual(['@alice/geo'])
    const [wider, wrong, list] = await Promise.all([npm(['token', 'create', '--password', 'correct horse', '--scopes', '@bob'], [], npmrc),
      npm(['token', 'create', '--password', 'wrong horse'], [], npmrc), npm(['token', 'list', '--json'], [], npmrc)])
    expect(wider.code).not.toBe(0)
    expect(wider.stderr).toMatch(/403 Forbidden .* cannot create a token for @bob\/\*/)
    expect(wrong.stderr).toContain('wrong password')
    expect((JSON.parse(list.stdout) as { key: string }[]).map((t) => t.key)).toContain(jti)
    const revoke = await npm(['token', 'revoke', jti!], [], npmrc)
    expect([revoke.code, revoke.stdout.trim()], revoke.stderr).toEqual([0, 'Removed 1 token'])
    const response = await fetch(new URL('/-/whoami', registry.url), { headers: { authorization: `Bearer ${created}` } })
    expect(((await response.json()) as { code: string }).code).toBe('ERR_REGISTRY_TOKEN_REVOKED')
  })
})
