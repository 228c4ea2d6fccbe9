// Test support: run the real `islet` command in a child process with the pinned Node, and read its output.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../runtime/cli/bin.js', import.meta.url))

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs `islet …args` to completion (bounded by a timeout) with the pinned Node. */
export function islet(args: string[], options: { cwd?: string; env?: Record<string, string>; node?: string } = {}): CliResult {
  const r = spawnSync(options.node ?? process.execPath, [BIN, ...args], {
    cwd: options.cwd, env: { ...process.env, LOG_LEVEL: 'info', ...options.env }, encoding: 'utf8', timeout: 30_000,
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/**
 * `islet` as `islet()` runs it, without blocking this process: a test that makes several independent calls starts
 * them together (Promise.all), and in-process servers (a registry on loopback) keep answering while they run.
 */
export function isletAsync(args: string[], options: { cwd?: string; env?: Record<string, string>; node?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.node ?? process.execPath, [BIN, ...args], {
      cwd: options.cwd, env: { ...process.env, LOG_LEVEL: 'info', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.once('error', reject)
    child.once('close', (status) => resolve({ status, stdout, stderr }))
  })
}

export interface RunningIslet {
  child: ChildProcess
  /** JSON log lines written so far. */
  logs: Record<string, unknown>[]
  /** Resolves with the first log line matching. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  exited: Promise<number | null>
  /** Everything written to stderr so far. */
  stderr(): string
}

/** Kills what a test left running (SIGKILL: the point is a clean slate, not a clean stop) and waits for each exit. */
export async function killIslets(running: RunningIslet[]): Promise<void> {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill('SIGKILL')
      await r.exited
    }
  }
}

/** Starts `islet …args` in the background; JSON logs are collected line by line. */
export function spawnIslet(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): RunningIslet {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd, env: { ...process.env, LOG_LEVEL: 'info', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Record<string, unknown>[] = []
  const listeners = new Set<() => void>()
  let buffer = ''
  child.stdout!.on('data', (chunk) => {
    buffer += chunk
    let nl
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      try { logs.push(JSON.parse(line)) } catch { logs.push({ raw: line }) }
    }
    listeners.forEach((l) => l())
  })
  let stderr = ''
  child.stderr!.on('data', (chunk) => { stderr += chunk })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))))
  return {
    child, logs, exited,
    stderr: () => stderr,
    waitFor(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match)
          if (found) { listeners.delete(check); clearTimeout(timer); resolve(found) }
        }
        const timer = setTimeout(() => { listeners.delete(check); reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}; logs: ${JSON.stringify(logs)}`)) }, timeoutMs)
        listeners.add(check)
        check()
        void exited.then(() => setTimeout(check, 0))
      })
    },
  }
}
