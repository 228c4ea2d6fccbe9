// Starts Debian's redis-server for a benchmark: loopback only, a port of the benchmarks' range, a fresh temporary dir
// for its files, no RDB snapshots (they would fork mid-measurement), and one of two durability modes:
// `aof` (appendonly yes, appendfsync everysec: the closest Redis comes to a durable queue without fsync per write)
// or `memory` (nothing on disk). It is stopped by stop(), and killed when this process exits, errs or is interrupted.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from '../support/until.ts'
import { onExit } from './exit-cleanup.ts'
import { Redis } from 'ioredis'

export type RedisMode = 'aof' | 'memory'

export interface RedisServer {
  mode: RedisMode
  port: number
  pid: number
  version: string
  /** SIGTERM (Redis stops its AOF rewrite child and exits), SIGKILL after 5 s; removes its dir. */
  stop(): Promise<void>
}

/** The redis-server binary's version line, or undefined when it is not installed. */
export function redisVersion(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) return undefined
  return /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim()
}

export async function startRedis(mode: RedisMode, port: number): Promise<RedisServer> {
  const version = redisVersion()
  if (!version) throw new Error('redis-server is not installed (apt-get install -y redis-server)')
  const dir = mkdtempSync(join(tmpdir(), `islet-bench-redis-${mode}-`))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--dir', dir, '--save', '',
    '--daemonize', 'no', '--loglevel', 'warning', '--logfile', '',
    ...(mode === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'])]
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const kill = () => {
    forget()
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  const forget = onExit(kill)
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000) })
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${stderr}`)
      const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
      client.on('error', () => {})
      try {
        await client.connect()
        return await client.ping() === 'PONG'
      } catch {
        return false
      } finally {
        client.disconnect()
      }
    }, { ms: 10_000, everyMs: 20, explain: () => stderr })
  } catch (error) {
    kill()
    throw error
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    kill()
  }
  return { mode, port, pid: child.pid!, version, stop }
}
