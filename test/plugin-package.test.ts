// `islet plugin new|pack|publish` end to end with the real tools: a fresh scaffold's own `npm test` passes and its
// example app validates; `islet plugin pack` prints the integrity packFolder computes and packs npm's files;
// `islet plugin publish` sends exactly what the real `npm publish` of the same folder sends (both recorded by one
// loopback HTTP server answering as a registry does), and a registry's refusal reaches the user with its reason.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHttpSource, materialize, tarballFileName, VENDOR_DIR } from '../registry/client/index.ts'
import { packFolder } from '../registry/pack.ts'
import { openEmbeddedRegistry } from '../registry/server/embedded.ts'
import { createSigningKey, publicKeyOf, signVersion, verifyVersion } from '../registry/signature.ts'
import { BIN } from './support/cli.ts'

const ROOT = join(import.meta.dirname, '..')
const PORT = 19150
const work = mkdtempSync(join(tmpdir(), 'islet-plugin-package-'))
// npm and islet both read this npmrc (never the user's): the token for the loopback registry.
const npmrc = join(work, 'npmrc')
writeFileSync(npmrc, `//127.0.0.1:${PORT}/:_authToken=test-token-1\n`)
const env = {
  ...process.env, LOG_LEVEL: 'warn', npm_config_userconfig: npmrc, npm_config_cache: join(work, 'npm-cache'), npm_config_loglevel: 'warn',
  npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false',
  // `npm test` in the scaffold finds `islet` as an installed one would be: on the PATH.
  PATH: `${join(ROOT, 'node_modules', '.bin')}:${dirname(process.execPath)}:${process.env.PATH}`,
}

/** Runs a command without blocking this process: the registry the command talks to is served from here. */
function run(command: string, args: string[], cwd: string): Promise<{ status: number | null; out: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; out += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    child.once('error', reject)
    child.once('close', (status) => resolve({ status, out, stdout }))
  })
}
const islet = (args: string[], cwd: string) => run(process.execPath, [BIN, ...args], cwd)

interface Recorded { method: string; url: string; headers: IncomingMessage['headers']; body: string }
const requests: Recorded[] = []
/** What the registry answers a PUT with next: 201, or an npm-shaped refusal. */
let answer: { status: number; body: unknown } = { status: 201, body: { ok: true } }
let server: Server

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body })
      const reply = req.method === 'PUT' ? answer : { status: 404, body: { error: 'not found' } }
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(PORT, '127.0.0.1', resolve))
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(work, { recursive: true, force: true })
})

describe('islet plugin new', () => {
  it('scaffolds a package whose own npm test passes and whose example app validates', async () => {
    const created = await islet(['plugin', 'new', '@acme/geo', '--host', '--dir', 'geo'], work)
    expect(created.status, created.out).toBe(0)
    const dir = join(work, 'geo')
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    expect(pkg.islet).toMatchObject({ engine: '^0.1.0', host: './host.js', components: { geo: { file: 'components/geo.ts', capabilities: { kv: true } } } })
    const test = await run('npm', ['test'], dir)
    expect(test.status, test.out).toBe(0)
    expect(test.out).toContain('3 passed, 0 failed')
    expect(test.out).toContain('1 file valid')
    const validated = await islet(['validate', 'app.yaml'], dir)
    expect(validated.status, validated.out).toBe(0)
  })

  it('tells how to put islet on the PATH when it is not there: the scaffold\'s npm test calls it by name', async () => {
    const bin = join(ROOT, 'node_modules', '.bin')
    const without = (process.env.PATH ?? '').split(':').filter((d) => !existsSync(join(d, 'islet'))).join(':')
    const r = spawnSync(process.execPath, [BIN, 'plugin', 'new', '@acme/nopath', '--dir', 'nopath'], { cwd: work, encoding: 'utf8', env: { ...env, PATH: without } })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain(`next:\n  export PATH=${bin}:$PATH`)
    const shown = await islet(['plugin', 'new', '@acme/onpath', '--dir', 'onpath'], work)
    expect(shown.stdout).not.toContain('export PATH=')
  })

  it('refuses a folder that is not empty, and a name npm would refuse', async () => {
    writeFileSync(join(work, 'taken.txt'), '')
    const [taken, bad] = await Promise.all([islet(['plugin', 'new', 'x', '--dir', '.'], work), islet(['plugin', 'new', '@Acme/Geo'], work)])
    expect(taken.status).toBe(2)
    expect(taken.out).toMatch(/is not empty/)
    expect(bad.status).toBe(2)
    expect(bad.out).toMatch(/not an npm package name/)
  })
})

describe('islet plugin pack', () => {
  it('prints name@version and the integrity of the tarball it writes, with the files npm pack takes', async () => {
    const dir = join(work, 'geo')
    // Independent commands, started together: each is a Node start.
    const [packed, npmPacked, text, expected] = await Promise.all([islet(['plugin', 'pack', dir, '--out', work, '--format', 'json'], work),
      run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], dir), islet(['plugin', 'pack', dir, '--out', '-'], work), packFolder(dir)])
    expect(packed.status, packed.out).toBe(0)
    const report = JSON.parse(packed.stdout)
    expect(report).toMatchObject({ name: '@acme/geo', version: '0.1.0', integrity: expected.integrity, filename: 'acme-geo-0.1.0.tgz' })
    expect(readFileSync(join(work, 'acme-geo-0.1.0.tgz')).equals(expected.tarball)).toBe(true)
    const npm = JSON.parse(npmPacked.stdout) as { files: { path: string }[] }[]
    expect(report.files.map((f: { path: string }) => f.path)).toEqual(npm[0]!.files.map((f) => f.path).sort())
    expect(report.files.map((f: { path: string }) => f.path)).toEqual(['README.md', 'components/geo.ts', 'host.js', 'package.json'])
    expect(text.stdout).toContain(`@acme/geo@0.1.0\nintegrity: ${expected.integrity}`)
  })

  it('packs a tarball the runtime verifies and extracts, whose components pass their examples as published', async () => {
    const pack = await packFolder(join(work, 'geo'))
    // Signed as a registry signs it, vendored next to an app as `islet plugin vendor` does.
    const key = createSigningKey()
    const { keyid, sig } = signVersion(key, '@acme/geo', '0.1.0', pack.integrity)
    const appDir = mkdtempSync(join(work, 'app-'))
    mkdirSync(join(appDir, VENDOR_DIR))
    writeFileSync(join(appDir, VENDOR_DIR, tarballFileName(pack.integrity)), pack.tarball)
    const registry = `http://127.0.0.1:${PORT + 1}/`   // never contacted: the vendored tarball is found first
    const { dir, packageJson } = await materialize(
      { name: '@acme/geo', version: '0.1.0', integrity: pack.integrity, keyid, sig, registry, engine: '^0.1.0' },
      { dataDir: join(appDir, 'data'), appDir, engineVersion: '0.1.0', sources: { default: createHttpSource({ url: registry }) },
        keys: { [key.keyid]: { key: publicKeyOf(key).key, registry } } })
    expect(packageJson.islet.components?.geo?.file).toBe('components/geo.ts')
    const tested = await islet(['component', 'test', join(dir, 'components'), '--kv'], work)
    expect(tested.status, tested.out).toBe(0)
    expect(tested.out).toContain('3 passed, 0 failed')
  })

  it('refuses a package whose islet field names a file it does not pack', async () => {
    const dir = join(work, 'geo')
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    writeFileSync(join(work, 'broken.json'), JSON.stringify({ ...pkg, files: ['host.js'] }))
    const broken = mkdtempSync(join(work, 'broken-'))
    execFileSync('cp', ['-r', `${dir}/.`, broken])
    writeFileSync(join(broken, 'package.json'), readFileSync(join(work, 'broken.json')))
    const r = await islet(['plugin', 'pack', broken, '--out', '-'], work)
    expect(r.status).toBe(1)
    // The registry's own check (manifest-check.ts): where in package.json, what is wrong, how to fix it.
    expect(r.out).toMatch(/ERR_REGISTRY_MANIFEST_INVALID: .*package\.json: islet\.components\.geo\.file: 'components\/geo\.ts' is not in the package \(add it to the package \(check package\.json's 'files' list\)/)
  })
})

describe('islet plugin publish', () => {
  it('sends what npm publish sends, with the token from the npmrc', async () => {
    const dir = join(work, 'geo')
    const registry = `http://127.0.0.1:${PORT}/`
    requests.length = 0
    const npm = await run('npm', ['publish', '--registry', registry, '--ignore-scripts'], dir)
    expect(npm.status, npm.out).toBe(0)
    const npmPut = requests.find((r) => r.method === 'PUT')!
    requests.length = 0
    const ours = await islet(['plugin', 'publish', dir, '--registry', registry], work)
    expect(ours.status, ours.out).toBe(0)
    expect(ours.out).toContain(`published @acme/geo@0.1.0 to ${registry}`)
    const put = requests.find((r) => r.method === 'PUT')!
    expect(put.url).toBe(npmPut.url)
    expect(put.url).toBe('/@acme%2fgeo')
    expect(put.headers.authorization).toBe('Bearer test-token-1')
    expect(put.headers['content-type']).toBe('application/json')
    expect(put.headers['npm-command']).toBe('publish')
    const theirs = JSON.parse(npmPut.body)
    const mine = JSON.parse(put.body)
    // The document's frame is npm's, key for key; the tarballs differ only in their compression.
    expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort())
    for (const key of ['_id', 'name', 'description', 'dist-tags', 'access']) expect(mine[key], key).toEqual(theirs[key])
    expect(Object.keys(mine._attachments)).toEqual(Object.keys(theirs._attachments))
    const version = mine.versions['0.1.0']
    const npmVersion = theirs.versions['0.1.0']
    // Every field we send is one npm sends, with npm's value (npm adds a few normalised ones: bugs, homepage, …).
    for (const [key, value] of Object.entries(version)) {
      if (key === '_nodeVersion') continue
      if (key === 'dist') expect(Object.keys(value as object).sort()).toEqual(Object.keys(npmVersion.dist).sort())
      else expect(value, key).toEqual(npmVersion[key])
    }
    expect(version.dist.tarball).toBe(npmVersion.dist.tarball)
    const attachment = Object.values(mine._attachments)[0] as { data: string; length: number }
    const tarball = Buffer.from(attachment.data, 'base64')
    expect(attachment.length).toBe(tarball.length)
    expect(version.dist.integrity).toBe(`sha512-${createHash('sha512').update(tarball).digest('base64')}`)
  })

  it("reports the registry's refusal with its status, code and message", async () => {
    // As Islet's registry answers: the hint also in `error`, which is all npm prints.
    const hint = 'bump the version in package.json (npm version patch) and publish again'
    answer = { status: 409, body: { error: `cannot publish over @acme/geo@0.1.0; ${hint}`, code: 'ERR_REGISTRY_VERSION_EXISTS', hint } }
    try {
      const r = await islet(['plugin', 'publish', join(work, 'geo'), '--registry', `http://127.0.0.1:${PORT}/`], work)
      expect(r.status).toBe(1)
      expect(r.out).toMatch(/ERR_REGISTRY_PUBLISH_FAILED: @acme\/geo@0\.1\.0 refused by http:\/\/127\.0\.0\.1:19150\/: 409 ERR_REGISTRY_VERSION_EXISTS cannot publish over @acme\/geo@0\.1\.0/)
      expect(r.out.split('bump the version')).toHaveLength(2) // the registry's hint, once
    } finally {
      answer = { status: 201, body: { ok: true } }
    }
  })

  it('publishes into the embedded registry of the data directory when no registry is configured', async () => {
    const dataDir = join(work, 'data-embedded')
    const r = await islet(['plugin', 'publish', join(work, 'geo'), '--data-dir', dataDir], work)
    expect(r.status, r.out).toBe(0)
    expect(r.out).toMatch(/published @acme\/geo@0\.1\.0 to the embedded registry in .*data-embedded\/registry/)
    const embedded = openEmbeddedRegistry(join(dataDir, 'registry'))
    try {
      const dist = (await embedded.packument('@acme/geo'))?.versions['0.1.0']?.dist
      const [key] = await embedded.keys()
      expect(verifyVersion(key!.key, '@acme/geo', '0.1.0', dist!.integrity, dist!.signatures![0]!.sig)).toBe(true)
    } finally {
      embedded.close()
    }
  })
})
