// Starts an app through the real command line (`islet run` / `islet dev`, what a user starts), in a process group of
// its own so that its whole tree (engine, sandbox workers, esbuild) is measured and stopped by its pid, and polls
// until it answers. Ports come from the caller (the benchmarks' own range).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { BIN } from '../support/cli.ts'
import { until } from '../support/until.ts'

export interface CliServer {
  pid: number
  child: ChildProcess
  /** http://127.0.0.1:<port> */
  url: string
  /** performance.now() just before the spawn. */
  spawnedAt: number
  /** The last of what it wrote on stderr, for error messages. */
  stderr(): string
  /** Polls `POST path` every `everyMs` until it answers 200; resolves with the time from the spawn to that answer. */
  serving(path: string, body: string, options?: { everyMs?: number; ms?: number }): Promise<number>
  /** SIGTERM (drain), then SIGKILL to its group after 5 s; stragglers of the group too. Removes the data dir it made. */
  stop(): Promise<void>
}

export function post(url: string, body: string, timeoutMs = 3000): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) })
}

export interface CliOptions {
  /** Use (and keep) this data dir instead of a fresh temporary one. */
  dataDir?: string
  /** LOG_LEVEL (default warn). */
  logLevel?: string
  /** Called with each line the app writes on stdout (its JSON log); without it stdout is ignored. */
  stdout?: (line: string) => void
}

export function startCli(command: 'run' | 'dev', app: string, port: number, options: CliOptions = {}): CliServer {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'islet-bench-cli-'))
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, [BIN, command, app, '--data-dir', dataDir], {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: options.logLevel ?? 'warn' }, stdio: ['ignore', options.stdout ? 'pipe' : 'ignore', 'pipe'], detached: true,
  })
  if (options.stdout) createInterface({ input: child.stdout! }).on('line', options.stdout)
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* the group is gone */ } }
  return {
    pid: child.pid!, child, url, spawnedAt, stderr: () => stderr,
    async serving(path, body, options = {}) {
      let at = 0
      await until(async () => {
        if (child.exitCode !== null) throw new Error(`islet ${command} ${app} exited with ${child.exitCode}: ${stderr}`)
        const ok = await post(url + path, body, 2000).then(async (res) => { await res.arrayBuffer(); return res.status === 200 }, () => false)
        if (ok) at = performance.now()
        return ok
      }, { ms: options.ms ?? 60_000, everyMs: options.everyMs ?? 5, explain: () => stderr })
      return at - spawnedAt
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(killGroup, 5000)
        await exited
        clearTimeout(timer)
      }
      killGroup()
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
