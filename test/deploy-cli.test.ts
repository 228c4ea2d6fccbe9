// `islet deploy` as a terminal or CI runs it: the real command in a child process against a running app on loopback.
// It prints the diagnostics as `islet validate` does, at the local files, with a summary line; --format json prints
// the DeployResult; exit 1 when refused, 2 for a usage error; the token never appears in what it prints.
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, startApp, type TestApp } from './support/app.ts'
import { isletAsync } from './support/cli.ts'
import { tokenAuth } from './support/token-auth.ts'

const APP = `apiVersion: islet/v1
components:
  - slot: pricing
    grants: { kv: true }
modules:
  - name: admin
    type: islet.admin
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /quote, pipeline: quote }]
  - name: web
    type: http.server
    config: { port: 0, middleware: [admin], routers: [api] }
pipelines:
  quote:
    steps:
      - { name: q, type: component, config: { component: pricing, input: '\${{ body }}' } }
      - type: respond
        config: { body: '\${{ steps.q }}' }
`
const INDEX = `import { defineComponent } from '@islet/sdk'
import { FACTOR } from './lib/rates.ts'
export default defineComponent({
  name: 'pricing',
  examples: [{ input: { n: 2 }, output: { total: 2 * FACTOR } }],
  execute: (input: { n: number }) => ({ total: input.n * FACTOR }),
})
`
/** Does not compile: a syntax error on line 4, column 16 or so. */
const BROKEN = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'pricing',
  execute: () => ({ total: }),
})
`

let app: TestApp
let work: string
beforeAll(async () => {
  app = await startApp({ 'app.yaml': APP })
  // The component's folder, as a user has it: beside the app, with a file that is not source.
  work = join(app.dir, 'work')
  mkdirSync(join(work, 'pricing', 'lib'), { recursive: true })
  mkdirSync(join(work, 'broken'))
  writeFileSync(join(work, 'pricing', 'index.ts'), INDEX)
  writeFileSync(join(work, 'pricing', 'lib', 'rates.ts'), 'export const FACTOR = 3\n')
  writeFileSync(join(work, 'pricing', 'NOTES.md'), '# not deployed\n')
  writeFileSync(join(work, 'broken', 'index.ts'), BROKEN)
}, 60_000)
afterAll(() => app?.close())

// ISLET_TOKEN emptied: these run as the loopback convenience whatever the environment holds.
const deploy = (args: string[], env: Record<string, string> = {}) => isletAsync(['deploy', ...args, '--url', app.url], { cwd: work, env: { ISLET_TOKEN: '', ...env } })
const quote = async (n: number) => (await json(await fetch(`${app.url}/quote`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }),
}))).total
const versions = async () => json(await fetch(`${app.url}/admin/slots/pricing/versions`))

describe('islet deploy', () => {
  it('deploys a folder and promotes it; the app serves it', async () => {
    const r = await deploy(['pricing', 'pricing', '--promote', '--message', 'first'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^deployed: pricing version (\d+) \(sha256 [0-9a-f]{12}\) is live; steps: files \d+ ms, compile \d+ ms.*promote \d+ ms\n$/)
    expect(await quote(5)).toBe(15)
    const latest = (await versions()).at(-1)
    // The folder's sources under paths relative to it; NOTES.md left out.
    expect(latest.files.map((f: { path: string }) => f.path).sort()).toEqual(['index.ts', 'lib/rates.ts'])
    expect(latest).toMatchObject({ message: 'first', status: 'live' })
  })

  it('a dry run with --format json prints the DeployResult and stores nothing', async () => {
    const before = (await versions()).length
    const r = await deploy(['pricing', 'pricing/index.ts', 'pricing/lib/rates.ts', '--dry-run', '--format', 'json', '--entry', 'pricing/index.ts'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result).toMatchObject({ ok: true, slot: 'pricing', dryRun: true, promoted: false, diagnostics: [] })
    expect(result.steps.length).toBeGreaterThan(0)
    // Without --entry, the one …/index.ts among the files named from the parent folder is the entry.
    const guessed = await deploy(['pricing', 'pricing/index.ts', 'pricing/lib/rates.ts', '--dry-run'])
    expect(guessed.stdout).toMatch(/^valid: pricing would accept these files/)
    expect(guessed.status).toBe(0)
    expect(await versions()).toHaveLength(before)
  })

  it('a refused deploy prints the diagnostics as islet validate does, at the local file, and exits 1', async () => {
    const live = await quote(1)
    const r = await deploy(['pricing', 'broken', '--promote'])
    expect(r.status).toBe(1)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^broken\/index\.ts:4:\d+ error ERR_[A-Z_]+ /)
    expect(lines.at(-1)).toMatch(/^refused: pricing version \d+ \(sha256 [0-9a-f]{12}\) stored as rejected, 1 error; not promoted; steps: files \d+ ms, compile failed \d+ ms/)
    expect(await quote(1)).toBe(live)
    expect((await versions()).at(-1).status).toBe('rejected')

    const asJson = await deploy(['pricing', 'broken', '--format', 'json'])
    expect(asJson.status).toBe(1)
    const result = JSON.parse(asJson.stdout)
    expect(result).toMatchObject({ ok: false, diagnostics: [expect.objectContaining({ file: 'index.ts', line: 4 })] })
  })

  it('stages, promotes a version by id, and rolls back', async () => {
    writeFileSync(join(work, 'pricing', 'lib', 'rates.ts'), 'export const FACTOR = 4\n')
    const staged = await deploy(['pricing', 'pricing'])
    expect(staged.status).toBe(0)
    const [, id, suggested] = /^staged: pricing version (\d+) .*\((islet deploy pricing --promote-version \1 .*) makes it live\)/.exec(staged.stdout) ?? []
    expect(id, staged.stdout).toBeDefined()
    expect(await quote(1)).toBe(3)

    // The command the summary suggests works pasted as it is (it names the server too).
    const promoted = await isletAsync(suggested!.split(' ').slice(1), { cwd: work, env: { ISLET_TOKEN: '' } })
    expect(promoted.status).toBe(0)
    expect(promoted.stdout).toMatch(new RegExp(`^promoted: pricing version ${id} \\(sha256 [0-9a-f]{12}\\) is live; steps: promote \\d+ ms\\n$`))
    expect(await quote(1)).toBe(4)

    const back = await deploy(['pricing', '--rollback', '--format', 'json'])
    expect(back.status).toBe(0)
    expect(JSON.parse(back.stdout)).toMatchObject({ ok: true, promoted: true })
    expect(await quote(1)).toBe(3)
  })

  it('prints the API refusal as CODE: message and exits 1; never prints the token', async () => {
    const token = 'isk_secret_do-not-print-me'
    const unknown = await deploy(['nope', 'pricing'], { ISLET_TOKEN: token })
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toMatch(/^ERR_[A-Z_]+: /)
    expect(unknown.stdout + unknown.stderr).not.toContain(token)

    const unreachable = await isletAsync(['deploy', 'pricing', 'pricing', '--url', 'http://127.0.0.1:9', '--token', token], { cwd: work })
    expect(unreachable.status).toBe(1)
    expect(unreachable.stderr).toMatch(/^ERR_CLI_UNREACHABLE: could not reach the admin API at http:\/\/127\.0\.0\.1:9\/admin/)
    expect(unreachable.stdout + unreachable.stderr).not.toContain(token)

    // A prefix no admin module serves: the app's own 404, and what to check.
    const notAdmin = await isletAsync(['deploy', 'pricing', 'pricing', '--url', `${app.url}/not-admin`], { cwd: work })
    expect(notAdmin.status).toBe(1)
    expect(notAdmin.stderr).toMatch(/^ERR_HTTP_NOT_FOUND: .*\(no admin API at http:\/\/127\.0\.0\.1:\d+\/not-admin: is --url the server whose middleware lists the islet\.admin module/)

    // Something that is not an islet app at all.
    const other = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>') })
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = other.address() as AddressInfo
      const html = await isletAsync(['deploy', 'pricing', 'pricing', '--url', `http://127.0.0.1:${port}`], { cwd: work })
      expect(html.status).toBe(1)
      expect(html.stderr).toMatch(/^ERR_CLI_BAD_RESPONSE: http:\/\/127\.0\.0\.1:\d+\/admin answered 200 text\/html, not the admin API's JSON/)
    } finally {
      other.close()
    }
  })

  it('refuses meaningless command lines with exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['pricing'], /give the files or folders to deploy/],
      [['pricing', 'pricing', '--rollback'], /--rollback takes no files/],
      [['pricing', '--rollback', '--promote-version', '2'], /two actions/],
      [['pricing', 'pricing', '--to', '2'], /--to goes with --rollback/],
      [['pricing', '--promote-version', 'latest'], /takes a version id/],
      [['pricing', 'pricing', '--dry-run', '--promote'], /nothing to --promote/],
      [['pricing', 'missing-folder'], /'missing-folder' does not exist/],
    ]
    for (const [args, message] of cases) {
      const r = await deploy(args)
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toMatch(/^ERR_CLI_USAGE: /)
      expect(r.stderr).toMatch(message)
    }
    const noUrl = await isletAsync(['deploy', 'pricing', 'pricing'], { cwd: work })
    expect(noUrl.status).toBe(2)
    expect(noUrl.stderr).toMatch(/--url http:\/\/127\.0\.0\.1:8080/)
  })
})

describe('islet deploy with a token', () => {
  it('sends --token or ISLET_TOKEN as a bearer token (the version names its principal); without one a 0.0.0.0 server refuses', async () => {
    const t = await startApp({ 'app.yaml': `apiVersion: islet/v1
components:
  - slot: pricing
    deployers: ['deploy:pricing']
modules:
  - name: tok
    type: test.token
    config:
      tokens:
        t-deploy: { subject: agent, scopes: ['deploy:pricing'] }
  - name: admin
    type: islet.admin
    config: { auth: [tok] }
  - name: web
    type: http.server
    config: { port: 0, host: 0.0.0.0, middleware: [admin] }
` }, { plugins: [tokenAuth] })
    try {
      const url = t.url.replace('//0.0.0.0:', '//127.0.0.1:')
      const run = (args: string[], env: Record<string, string> = {}) => isletAsync(['deploy', 'pricing', ...args, '--url', url], { cwd: work, env })
      const none = await run(['pricing', '--dry-run'], { ISLET_TOKEN: '' })
      expect(none.status).toBe(1)
      expect(none.stderr).toMatch(/^ERR_ADMIN_AUTH_REQUIRED: /)

      const fromEnv = await run(['pricing', '--format', 'json'], { ISLET_TOKEN: 't-deploy' })
      expect(fromEnv.status, fromEnv.stderr).toBe(0)
      expect(JSON.parse(fromEnv.stdout).version).toMatchObject({ author: 'agent', status: 'staged' })
      expect(fromEnv.stdout + fromEnv.stderr).not.toContain('t-deploy')

      const fromFlag = await run(['--promote-version', String(JSON.parse(fromEnv.stdout).version.id), '--token', 't-deploy'])
      expect(fromFlag.status, fromFlag.stderr).toBe(0)
      expect(fromFlag.stdout).toMatch(/^promoted: pricing version \d+ /)
      expect(fromFlag.stdout + fromFlag.stderr).not.toContain('t-deploy')

      const forged = await run(['pricing'], { ISLET_TOKEN: 't-forged' })
      expect(forged.status).toBe(1)
      expect(forged.stderr).toMatch(/^ERR_[A-Z_]+: /)
      expect(forged.stdout + forged.stderr).not.toContain('t-forged')
    } finally {
      await t.close()
    }
  })
})

describe('islet deploy against a server whose auth middleware answers first', () => {
  it('says the admin module is not (or not first) in the middleware, not only that credentials are needed', async () => {
    // The admin module is declared but left out of the server's middleware: auth.apikey answers every /admin request.
    const t = await startApp({ 'app.yaml': `apiVersion: islet/v1
components:
  - slot: pricing
modules:
  - name: keys
    type: auth.apikey
    config: { store: keys.db }
  - name: admin
    type: islet.admin
    config: { auth: [keys] }
  - name: web
    type: http.server
    config: { port: 0, middleware: [keys] }
` })
    try {
      const r = await isletAsync(['deploy', 'pricing', 'pricing', '--url', t.url, '--dry-run'], { cwd: work, env: { ISLET_TOKEN: '' } })
      expect(r.status).toBe(1)
      expect(r.stderr).toMatch(/^ERR_AUTH_REQUIRED: .*\(the app's auth middleware answered, not the admin API at .*: list the islet\.admin module in that server's middleware, before its auth modules/)
    } finally {
      await t.close()
    }
  })
})
