// Verdaccio (https://verdaccio.org), the npm-protocol registry people self-host, as the benchmark's peer. Installed
// OUTSIDE the repo for the benchmark only (`mkdir -p /work/peers-verdaccio && cd /work/peers-verdaccio && npm init -y
// && npm install verdaccio@6`; VERDACCIO_DIR points elsewhere). Runs on loopback with a config of its own in a temp
// folder: storage there, no uplinks (never the network), request logging off (Verdaccio logs each request at level
// http; logging would be measured too), same Node as the benchmark.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { until } from '../support/until.ts'

export const verdaccioDir = process.env.VERDACCIO_DIR ?? '/work/peers-verdaccio'

/** The verdaccio executable's script, or undefined when it is not installed (the caller prints a note and skips it). */
export function verdaccioBin(dir = verdaccioDir): string | undefined {
  const bin = join(dir, 'node_modules', 'verdaccio', 'bin', 'verdaccio')
  return existsSync(bin) ? bin : undefined
}

export interface Verdaccio {
  url: string
  child: ChildProcess
  /** A publishing token for user `bench` (registered through npm's adduser request). */
  token: string
  version: string
  close(): Promise<void>
}

export async function startVerdaccio(options: { bin: string; dir: string; port: number }): Promise<Verdaccio> {
  mkdirSync(options.dir, { recursive: true })
  const config = join(options.dir, 'config.yaml')
  writeFileSync(config, [
    `storage: ${join(options.dir, 'storage')}`,
    `auth: { htpasswd: { file: ${join(options.dir, 'htpasswd')}, max_users: 100 } }`,
    'uplinks: {}',
    'packages:',
    "  '@*/*': { access: $all, publish: $authenticated, unpublish: $authenticated }",
    "  '**': { access: $all, publish: $authenticated, unpublish: $authenticated }",
    'middlewares: { audit: { enabled: false } }',
    'max_body_size: 100mb',
    'web: { enable: false }',
    'log: { type: stdout, format: pretty, level: error }',
    '',
  ].join('\n'))
  const url = `http://127.0.0.1:${options.port}/`
  const child = spawn(process.execPath, [options.bin, '--config', config, '--listen', `127.0.0.1:${options.port}`],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.dir })
  let output = ''
  child.stdout!.on('data', (d) => { output += d })
  child.stderr!.on('data', (d) => { output += d })
  const close = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}: ${output}`)
      return fetch(`${url}-/ping`).then((r) => r.ok, () => false)
    }, { ms: 60_000, everyMs: 100, explain: () => output })
    const response = await fetch(`${url}-/user/org.couchdb.user:bench`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _id: 'org.couchdb.user:bench', name: 'bench', password: 'bench-password', email: 'bench@example.com', type: 'user', roles: [], date: new Date().toISOString() }),
    })
    const body = await response.json() as { token?: string; error?: string }
    if (!body.token) throw new Error(`verdaccio adduser: ${response.status} ${body.error ?? ''}`)
    const version = (await import(join(options.bin, '..', '..', 'package.json'), { with: { type: 'json' } })).default.version as string
    return { url, child, token: body.token, version, close }
  } catch (error) {
    await close()
    throw error
  }
}
