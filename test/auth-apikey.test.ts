// auth.apikey end to end: keys made by the real `islet apikey` command (a child process) on the SQLite store of an
// app that serves on loopback; the store holds hashes only; a revocation holds from the next request.
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SignJWT } from 'jose'
import { json, startApp, type TestApp } from './support/app.ts'
import { isletAsync } from './support/cli.ts'

const SECRET = 'another-test-secret-long-enough-for-hs256-abcdefghij'

const APP = `
apiVersion: islet/v1
modules:
  - name: keys
    type: auth.apikey
    config: { store: auth/keys.db, optional: true }
  - name: partners
    type: auth.apikey
    config: { store: partners.db }
  - name: jwt
    type: auth.jwt
    config: { secret: '\${JWT_SECRET}' }
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /me, pipeline: me }
  - name: web
    type: http.server
    config: { port: 0, middleware: [keys, jwt], routers: [api] }
pipelines:
  me:
    steps:
      - type: respond
        config: { body: '\${{ locals.principal }}' }
`

let app: TestApp
let cliArgs: string[]

/** `islet apikey …` on the app, in a child process; JWT_SECRET is not set there: the command reads no more than it needs. */
async function apikey(...args: string[]) {
  const env = { ...process.env }
  delete env.JWT_SECRET
  return isletAsync(['apikey', ...args, ...cliArgs], { env: env as Record<string, string> })
}

async function create(name: string, scopes: string) {
  const r = await apikey('create', name, '--scopes', scopes, '--format', 'json')
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as { id: string; key: string; name: string; scopes: string[] }
}

/**
 * What the store's files hold, read by another process: opening (and closing) a SQLite file inside the engine's own
 * process drops the engine's POSIX locks on it, after which SQLite cannot coordinate with the CLI (a POSIX rule, not
 * a defect to test for). Returns the files, those whose bytes contain `needle`, and the key's row.
 */
function readStore(folder: string, db: string, id: string, needle: string) {
  const script = `const fs = require('node:fs'); const path = require('node:path'); const [folder, db, id, needle] = process.argv.slice(1)
    const files = fs.readdirSync(folder).filter((f) => f.startsWith(db))
    const holding = files.filter((f) => fs.readFileSync(path.join(folder, f)).includes(Buffer.from(needle)))
    const D = require('better-sqlite3'); const conn = new D(path.join(folder, db), { readonly: true })
    const row = conn.prepare('SELECT * FROM api_keys WHERE id = ?').get(id); conn.close()
    process.stdout.write(JSON.stringify({ files, holding, row }))`
  const r = spawnSync(process.execPath, ['-e', script, folder, db, id, needle], { encoding: 'utf8' })
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as { files: string[]; holding: string[]; row: Record<string, unknown> }
}

const withKey = (key: string, header: 'bearer' | 'x-api-key' = 'bearer') =>
  ({ headers: header === 'bearer' ? { authorization: `Bearer ${key}` } : { 'x-api-key': key } })

beforeAll(async () => {
  app = await startApp({ 'app.yaml': APP }, { env: { JWT_SECRET: SECRET } })
  cliArgs = ['--app', join(app.dir, 'app.yaml'), '--data-dir', join(app.dir, 'data'), '--module', 'keys']
})
afterAll(async () => { await app?.close() })

describe('auth.apikey with islet apikey', () => {
  it('a created key is printed once and lets requests through, as Bearer or X-API-Key; the pipeline sees who', async () => {
    const made = await create('ci', 'orders:read,admin')
    expect(made.key).toMatch(new RegExp(`^isk_${made.id}_[A-Za-z0-9_-]{43}$`))
    for (const header of ['bearer', 'x-api-key'] as const) {
      const res = await fetch(`${app.url}/me`, withKey(made.key, header))
      expect(res.status).toBe(200)
      expect(await json(res)).toEqual({ subject: made.id, via: 'apikey', name: 'ci', scopes: ['orders:read', 'admin'] })
    }
  })

  it('a wrong secret for a real id, or a malformed key, is 401 invalid_token', async () => {
    const made = await create('wrong', 'a')
    const forged = `isk_${made.id}_${'A'.repeat(43)}`
    for (const key of [forged, 'isk_nope']) {
      const res = await fetch(`${app.url}/me`, withKey(key, 'x-api-key'))
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="islet", error="invalid_token", error_description="/)
      expect((await json(res)).error.code).toBe('ERR_AUTH_INVALID_TOKEN')
    }
  })

  it('revocation holds from the next request on', async () => {
    const made = await create('soon-gone', 'orders:read')
    expect((await fetch(`${app.url}/me`, withKey(made.key))).status).toBe(200)
    const r = await apikey('revoke', made.id)
    expect(r.status, r.stderr).toBe(0)
    const res = await fetch(`${app.url}/me`, withKey(made.key))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/revoked/)
    const listed = JSON.parse((await apikey('list', '--format', 'json')).stdout) as { keys: { id: string; revokedAt: string | null }[] }
    expect(listed.keys.find((k) => k.id === made.id)!.revokedAt).not.toBeNull()
  })

  it('list shows ids, names, scopes and last use, never a key; the store file holds no key in clear', async () => {
    const made = await create('listed', 'x,y')
    await fetch(`${app.url}/me`, withKey(made.key))
    const text = await apikey('list')
    const asJson = await apikey('list', '--format', 'json')
    expect(text.status, text.stderr).toBe(0)
    expect(text.stdout).toContain(made.id)
    expect(text.stdout).toContain('listed')
    const secret = made.key.split('_').slice(2).join('_')
    for (const out of [text.stdout, text.stderr, asJson.stdout, asJson.stderr]) expect(out).not.toContain(secret)
    const row = (JSON.parse(asJson.stdout) as { keys: Record<string, unknown>[] }).keys.find((k) => k.id === made.id)!
    expect(row).toMatchObject({ name: 'listed', scopes: ['x', 'y'], revokedAt: null })
    expect(row.lastUsedAt).toEqual(expect.any(String))
    expect(Object.keys(row)).not.toContain('hash')

    // The SQLite file itself (and its WAL), and its row as SQLite returns it: the sha256 of the key, never the key.
    const stored = readStore(join(app.dir, 'data', 'auth'), 'keys.db', made.id, secret)
    expect(stored.files).toEqual(expect.arrayContaining(['keys.db', 'keys.db-wal']))
    expect(stored.holding).toEqual([])
    expect(stored.row.hash).toBe(createHash('sha256').update(made.key).digest('hex'))
    expect(Object.values(stored.row).some((v) => typeof v === 'string' && v.includes(secret))).toBe(false)
  })

  it('records last use coarsely: a second request right after the first writes nothing', async () => {
    const made = await create('busy', 'a')
    const lastUsed = async () => (JSON.parse((await apikey('list', '--format', 'json')).stdout) as { keys: { id: string; lastUsedAt: string | null }[] })
      .keys.find((k) => k.id === made.id)!.lastUsedAt
    expect(await lastUsed()).toBeNull()
    expect((await fetch(`${app.url}/me`, withKey(made.key))).status).toBe(200)
    const first = await lastUsed()
    expect(first).not.toBeNull()
    expect((await fetch(`${app.url}/me`, withKey(made.key))).status).toBe(200)
    expect(await lastUsed()).toBe(first)
  })

  it('a second auth middleware accepts what the first does not read: a JWT passes the optional keys module', async () => {
    const token = await new SignJWT({ sub: 'user-9', scope: 'orders:read' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET))
    const res = await fetch(`${app.url}/me`, withKey(token))
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ subject: 'user-9', via: 'jwt', scopes: ['orders:read'] })
    const none = await fetch(`${app.url}/me`)
    expect(none.status).toBe(401)
    expect((await json(none)).error.code).toBe('ERR_AUTH_REQUIRED')
  })
})

describe('islet apikey: which store', () => {
  it('run where there is no app.yaml, says how to name one, as a command that can be pasted', async () => {
    const r = await isletAsync(['apikey', 'list'], { cwd: join(app.dir, 'data') })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("no app file 'app.yaml' (the default) in this folder; pass one: islet apikey list --app path/to/app.yaml")
  })

  it('asks for --module when the app has several auth.apikey modules, and names them', async () => {
    const r = await isletAsync(['apikey', 'list', '--app', join(app.dir, 'app.yaml'), '--data-dir', join(app.dir, 'data')])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/several auth\.apikey modules \(keys, partners\).*--module/)
  })

  it('revoking an unknown id fails with ERR_AUTH_KEY_UNKNOWN', async () => {
    const r = await apikey('revoke', '0123456789abcdef')
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/ERR_AUTH_KEY_UNKNOWN/)
  })

  it('revoking by name or by the whole key says which id to give, and never echoes the key', async () => {
    const made = JSON.parse((await apikey('create', 'by-name', '--scopes', 'x', '--format', 'json')).stdout) as { id: string; key: string }
    const byName = await apikey('revoke', 'by-name')
    expect(byName.status).toBe(1)
    expect(byName.stderr).toContain(`'by-name' is the name of a key, not an id: islet apikey revoke ${made.id}`)
    const byKey = await apikey('revoke', made.key)
    expect(byKey.status).toBe(1)
    expect(byKey.stderr).toContain(`its id is ${made.id}`)
    expect(byKey.stderr + byKey.stdout).not.toContain(made.key)
  })
})
