// The real `islet` command in child processes: run (signals, drain, forced exit), validate, schema, old Node.
import { execFileSync, spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BIN, islet, isletAsync, spawnIslet } from './support/cli.ts'
import { writeFiles } from './support/app.ts'
import { until } from './support/until.ts'

const EXAMPLES = join(import.meta.dirname, '..', 'examples')
const PACKAGE = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }

const SLOW_BODY_APP = `apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /echo, pipeline: echo }]
  - name: web
    type: http.server
    config:
      port: 0
      routers: [api]
pipelines:
  echo:
    steps:
      - type: respond
        config: { body: '\${{ body }}' }
`

function listeningPort(line: Record<string, unknown>): number {
  return Number(new URL(String(line.url)).port)
}

/**
 * Opens a request whose body is still to come, and resolves once the server is handling it: with `Expect:
 * 100-continue`, Node answers `100 Continue` as it hands the request to the app, which counts it as in flight.
 */
async function requestInFlight(port: number, contentLength: number, first: string): Promise<{ socket: Socket; response: () => string }> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let response = ''
  socket.on('data', (d) => { response += d })
  socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\nExpect: 100-continue\r\n\r\n`)
  await until(() => response.startsWith('HTTP/1.1 100 Continue\r\n\r\n'))
  socket.write(first)
  return { socket, response: () => response.slice('HTTP/1.1 100 Continue\r\n\r\n'.length) }
}

describe('islet run', () => {
  it('drains on SIGTERM: a request still sending its body completes, then the process exits 0', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': SLOW_BODY_APP })
    const run = spawnIslet(['run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir })
    const port = listeningPort(await run.waitFor((l) => typeof l.url === 'string'))
    const body = '{"hello":"world"}'
    const { socket, response } = await requestInFlight(port, body.length, body.slice(0, 5))
    run.child.kill('SIGTERM')
    await run.waitFor((l) => l.msg === 'draining in-flight requests')
    socket.end(body.slice(5))
    expect(await run.exited).toBe(0)
    expect(response()).toMatch(/^HTTP\/1.1 200/)
    expect(response()).toContain('{"hello":"world"}')
    expect(run.logs.some((l) => l.msg === 'engine stopped')).toBe(true)
    cleanup()
  })

  it('a second signal forces exit while draining', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': SLOW_BODY_APP })
    const run = spawnIslet(['run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir })
    const port = listeningPort(await run.waitFor((l) => typeof l.url === 'string'))
    const { socket } = await requestInFlight(port, 100, '{')
    run.child.kill('SIGTERM')
    await run.waitFor((l) => l.msg === 'draining in-flight requests')
    run.child.kill('SIGINT')
    expect(await run.exited).toBe(130)
    socket.destroy()
    cleanup()
  })

  it('refuses a broken config with located errors and exit 1, starting nothing', () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': 'apiVersion: islet/v1\nmodules:\n  - name: web\n    type: http.sever\n' })
    const r = islet(['run', 'app.yaml'], { cwd: dir })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/app\.yaml:4:11 error ERR_CONFIG_UNKNOWN_MODULE_TYPE .*http\.sever/)
    expect(r.stderr).toContain("did you mean 'http.server'")
    cleanup()
  })

  it('startup failure (port in use) exits 1 naming the module and the fix', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': SLOW_BODY_APP, 'fixed.yaml': SLOW_BODY_APP.replace('port: 0', 'port: ${PORT}') })
    const first = spawnIslet(['run', 'app.yaml', '--data-dir', join(dir, 'd1')], { cwd: dir })
    const port = listeningPort(await first.waitFor((l) => typeof l.url === 'string'))
    const r = islet(['run', 'fixed.yaml', '--data-dir', join(dir, 'd2')], { cwd: dir, env: { PORT: String(port) } })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('ERR_ENGINE_START_FAILED')
    expect(r.stderr).toContain(`web (http.server): failed to start: port ${port} on 127.0.0.1 is already in use`)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    cleanup()
  })
})

describe('the command line', () => {
  it('--version and -v print the version', async () => {
    for (const r of await Promise.all(['--version', '-v'].map((flag) => isletAsync([flag])))) {
      expect(r.stdout).toBe(`islet ${PACKAGE.version}\n`)
      expect(r.status).toBe(0)
    }
  })

  it('every command answers --help and -h with its own usage, options and examples, exit 0', async () => {
    const calls = [['run'], ['dev'], ['validate'], ['schema'], ['component', 'test'], ['component', 'new']].flatMap((command) =>
      ['--help', '-h'].map((flag) => ({ command, flag })))
    // --help wins over the rest of the line, as in most tools.
    const [wins, ...results] = await Promise.all([isletAsync(['validate', '--fromat', 'x', '--help']), ...calls.map(({ command, flag }) => isletAsync([...command, flag]))])
    calls.forEach(({ command, flag }, i) => {
      const r = results[i]!
      expect(r.status, `${command.join(' ')} ${flag}: ${r.stderr}`).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^Usage: islet ${command.join(' ')}\\b`))
      expect(r.stdout).toMatch(/\nOptions:\n[\s\S]*-h, --help[\s\S]*\nExamples:\n {2}islet /)
    })
    expect(wins.status).toBe(0)
  })

  it('an unknown option is a usage error (exit 2) with did-you-mean and the usage line', async () => {
    const [r, kb, jsn, out, hlep] = await Promise.all([['validate', '--fromat', 'json', 'app.yaml'], ['component', 'test', 'x.ts', '--kb'],
      ['validate', '--format', 'jsn', 'app.yaml'], ['schema', '--out'], ['validate', '--hlep']].map((args) => isletAsync(args)))
    expect(r!.status).toBe(2)
    expect(r!.stderr).toBe("ERR_CLI_USAGE: unknown option '--fromat' for 'islet validate' (did you mean '--format'?)\n" +
      "usage: islet validate [files…] [options]\nrun 'islet validate --help' for its options and examples\n")
    expect(kb!.stderr).toContain("unknown option '--kb' for 'islet component test' (did you mean '--kv'?)")
    expect(jsn!.stderr).toContain("--format must be text or json, not 'jsn' (did you mean 'json'?)")
    expect(out!.stderr).toContain("option '--out' needs a value: --out <file>")
    expect(hlep!.stderr).toContain("unknown option '--hlep' for 'islet validate' (did you mean '--help'?)")
  })

  it('a value that begins with a dash says how to pass it, not parseArgs\' "ambiguous"', () => {
    const r = islet(['run', '--processes', '-1'])
    expect(r.status).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe("ERR_CLI_USAGE: option '--processes' got '-1', which looks like an option: to give a value that begins with '-', write --processes=-1")
  })

  it('an unknown command is a usage error with did-you-mean', async () => {
    const [r, tset] = await Promise.all([isletAsync(['valdate', 'app.yaml']), isletAsync(['component', 'tset'])])
    expect(r.status).toBe(2)
    expect(r.stderr.split('\n')[0]).toBe("ERR_CLI_USAGE: unknown command 'valdate' (did you mean 'validate'?)")
    expect(tset.stderr.split('\n')[0]).toBe("ERR_CLI_USAGE: unknown command 'islet component tset' (did you mean 'component test'?)")
  })

  it('a missing app file names the command that was run', () => {
    const r = islet(['dev', 'nope.yaml'])
    expect(r.stderr).toBe("ERR_CONFIG_FILE_NOT_FOUND: no app file 'nope.yaml'; pass one: islet dev path/to/app.yaml\n")
    expect(r.status).toBe(1)
  })
})

describe('islet validate', () => {
  it('passes the flagship example', () => {
    const r = islet(['validate', join(EXAMPLES, 'orders', 'app.yaml')])
    expect(r.stdout).toContain('1 file valid, 3 components compiled') // shipping-quote from the locked plugin
    expect(r.status).toBe(0)
  })

  it('without files checks ./app.yaml, the file run and dev start without one', () => {
    const r = islet(['validate'], { cwd: join(EXAMPLES, 'orders') })
    expect(r.stdout).toBe('1 file valid, 3 components compiled\n')
    expect(r.status).toBe(0)
  })

  it('compiles the components too: one that does not compile is an error at its file:line:col, and nothing says valid', () => {
    const { dir, cleanup } = writeFiles({
      'app.yaml': 'apiVersion: islet/v1\ncomponents:\n  - file: ./calc.ts\n',
      'calc.ts': "import { defineComponent } from '@islet/sdk'\nexport default defineComponent({\n  name: 'calc',\n  execute: (n: number) => n *,\n})\n",
    })
    const r = islet(['validate', 'app.yaml'], { cwd: dir })
    expect(r.stdout).toMatch(/^calc\.ts:4:\d+ error ERR_COMPONENT_SYNTAX /m)
    expect(r.stdout).not.toContain('valid')
    expect(r.status).toBe(1)
    cleanup()
  })

  it('a YAML syntax error comes alone, not after the errors it causes elsewhere', () => {
    const { dir, cleanup } = writeFiles({
      'app.yaml': 'apiVersion: islet/v1\nimports: [./pipelines.yaml]\nmodules:\n  - name: api\n    type: http.router\n    config:\n      routes: [{ method: GET, path: /a, pipeline: a }]\n',
      'pipelines.yaml': 'apiVersion: islet/v1\npipelines:\n  a:\n    steps: [\n',
    })
    const r = islet(['validate', 'app.yaml'], { cwd: dir })
    expect(r.stdout.split('\n')[0]).toMatch(/^pipelines\.yaml:\d+:\d+ error ERR_CONFIG_YAML_SYNTAX /)
    expect(r.stdout).not.toContain('ERR_CONFIG_UNKNOWN_REFERENCE')
    expect(r.status).toBe(1)
    cleanup()
  })

  it('prints every error as path:line:col severity CODE message and exits 1; --format json too', async () => {
    const { dir, cleanup } = writeFiles({
      'app.yaml': 'apiVersion: islet/v1\nmodules:\n  - name: web\n    type: http.server\n    config:\n      prot: 80\n      port: "x"\n',
    })
    const [r, j] = await Promise.all([isletAsync(['validate', 'app.yaml'], { cwd: dir }), isletAsync(['validate', '--format', 'json', 'app.yaml'], { cwd: dir })])
    expect(r.status).toBe(1)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^app\.yaml:6:7 error ERR_CONFIG_UNKNOWN_KEY .*'prot'.*did you mean 'port'/)
    expect(lines.some((l) => /^app\.yaml:7:\d+ error ERR_CONFIG_SCHEMA /.test(l))).toBe(true)
    expect(j.status).toBe(1)
    const parsed = JSON.parse(j.stdout)
    expect(parsed.valid).toBe(false)
    expect(parsed.diagnostics.map((d: { code: string }) => d.code)).toEqual(['ERR_CONFIG_UNKNOWN_KEY', 'ERR_CONFIG_SCHEMA'])
    cleanup()
  })
})

describe('islet validate: paths', () => {
  it('checks database files against the data directory it runs with: --data-dir, as for run', async () => {
    const data = writeFiles({ 'keep.txt': '' })
    const { dir, cleanup } = writeFiles({
      'app.yaml': `apiVersion: islet/v1\nmodules:\n  - name: db\n    type: storage.sqlite\n    config: { file: ${join(data.dir, 'app.db')} }\n`,
    })
    const [outside, inside] = await Promise.all([isletAsync(['validate', 'app.yaml'], { cwd: dir, env: { ISLET_DATA_DIR: 'data' } }),
      isletAsync(['validate', '--data-dir', data.dir, 'app.yaml'], { cwd: dir, env: { ISLET_DATA_DIR: 'data' } })])
    expect(outside.status).toBe(1)
    expect(outside.stdout).toMatch(/^app\.yaml:5:21 error ERR_CONFIG_PATH_OUTSIDE .* is outside the data directory/m)
    expect(inside.stdout).toContain('1 file valid')
    expect(inside.status).toBe(0)
    cleanup()
    data.cleanup()
  })
})

describe('islet schema', () => {
  it('--out into a folder that does not exist: what, where and how to fix, exit 1, no stack', () => {
    const r = islet(['schema', '--out', '/no/such/dir/x.json'])
    expect(r.stderr).toBe("ERR_CLI_OUTPUT: cannot write the schema to '/no/such/dir/x.json': the folder /no/such/dir does not exist; create it (mkdir -p /no/such/dir) or pass --out a file in an existing folder\n")
    expect(r.status).toBe(1)
  })

  it('prints the combined schema, and the copy the examples reference is current', () => {
    const r = islet(['schema'])
    expect(r.status).toBe(0)
    const schema = JSON.parse(r.stdout)
    expect(JSON.stringify(schema)).toContain('http.server')
    expect(JSON.stringify(schema)).toContain('sql.query')
    expect(readFileSync(join(EXAMPLES, 'islet.schema.json'), 'utf8')).toBe(r.stdout)
    expect(r.stdout).not.toContain('acme.api-keys')
  })

  it("given an app, describes its plugins' types too; a plugin that does not load is reported at its entry", async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': 'apiVersion: islet/v1\nplugins: [./nope.ts]\n' })
    const [r, broken] = await Promise.all([isletAsync(['schema', join(EXAMPLES, 'greetings', 'app.yaml')]), isletAsync(['schema', join(dir, 'app.yaml')])])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('acme.api-keys')
    expect(broken.stderr).toMatch(/app\.yaml:2:\d+ error ERR_PLUGIN_NOT_FOUND/)
    expect(broken.status).toBe(1)
    cleanup()
  })
})

describe('Node version guard', () => {
  const old = (() => {
    try {
      const path = execFileSync('bash', ['-lc', 'PATH=$(echo "$PATH" | tr ":" "\\n" | grep -v node_modules | paste -sd:) command -v node'], { encoding: 'utf8' }).trim()
      const version = execFileSync(path, ['-v'], { encoding: 'utf8' }).trim()
      return Number(version.slice(1).split('.')[0]) < 24 ? path : undefined
    } catch { return undefined }
  })()
  it.skipIf(!old)('started by an older Node, re-executes itself under the pinned Node 24 (exit status and output passed through)', async () => {
    const [version, usage] = await Promise.all([isletAsync(['--version'], { node: old }), isletAsync(['validate', '--fromat', 'json', 'x.yaml'], { node: old })])
    expect(version.stdout).toBe(`islet ${PACKAGE.version}\n`)
    expect(version.status).toBe(0)
    expect(usage.stderr).toMatch(/^ERR_CLI_USAGE: unknown option '--fromat'/)
    expect(usage.status).toBe(2)
  })
  // SIGTERM, and SIGINT sent to the command alone (kill -INT <pid>, not Ctrl-C): passed on to the re-executed one.
  it.skipIf(!old).each(['SIGTERM', 'SIGINT'] as const)('started by an older Node, `run` drains and stops on %s sent to the command', async (signal) => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': SLOW_BODY_APP })
    const child = spawn(old!, [BIN, 'run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } })
    let out = ''
    child.stdout!.on('data', (d) => { out += d })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    await until(() => out.includes('"msg":"engine ready"'), { explain: () => out })
    child.kill(signal)
    expect(await exited).toBe(0)
    expect(out).toContain(`"signal":"${signal}"`)
    expect(out).toContain('"msg":"engine stopped"')
    cleanup()
  })
  it.skipIf(!old)('refuses with one sentence saying how to run it when the pinned Node is not there either', () => {
    // ISLET_REEXEC marks a process that was already re-executed: it must not try again.
    const r = islet(['help'], { node: old, env: { ISLET_REEXEC: '1' } })
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/ERR_NODE_VERSION: Islet needs Node\.js 24 or newer .*npm ci.*\.\/node_modules\/\.bin\/islet/)
  })
})
