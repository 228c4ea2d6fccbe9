// Starts a benchmark server in a child process (so the load generator never shares its event loop) and waits for
// the URL it prints.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export interface BenchServer {
  url: string
  child: ChildProcess
  close(): Promise<void>
}

export async function startServer(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<BenchServer> {
  const path = fileURLToPath(new URL(script, import.meta.url))
  const child = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'silent', ...env } })
  const lines = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before printing its URL`)))
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url))
  })
  return {
    url, child,
    close: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}
