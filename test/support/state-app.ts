// Test support for the state plugin: a clock moved by hand, and apps opened with the state plugin over that clock
// (the other built-ins as they are) on a folder that outlives one engine, so a test can stop and start it again.
import { join } from 'node:path'
import type { Plugin } from '@islet/sdk'
import { Writable } from 'node:stream'
import { openApp } from '../../runtime/app.ts'
import { BUILTIN_PLUGINS } from '../../runtime/builtins.ts'
import type { Engine } from '../../runtime/engine/engine.ts'
import { createLogger } from '../../runtime/log/logger.ts'
import { createRegistry } from '../../runtime/plugins/registry.ts'
import { createStatePlugin, type Clock } from '../../plugins/state/index.ts'
import type { HttpServer } from '../../plugins/http/index.ts'

/** Time that moves only when `advance` is called; timers due by then fire, in order (one set with no delay fires at once). */
export class ManualClock implements Clock {
  #now: number
  #timers = new Set<{ at: number; fire: () => void }>()
  constructor(start = Date.parse('2026-03-01T09:00:00Z')) {
    this.#now = start
  }
  now(): number {
    return this.#now
  }
  setTimer(fire: () => void, ms: number): () => void {
    const timer = { at: this.#now + ms, fire }
    this.#timers.add(timer)
    // Already due (no delay, or time was moved past it): fires on its own, as a real timer would.
    if (ms <= 0) setImmediate(() => { if (this.#timers.delete(timer)) fire() })
    return () => { this.#timers.delete(timer) }
  }
  advance(ms: number): void {
    this.#now += ms
    const due = [...this.#timers].filter((t) => t.at <= this.#now).sort((a, b) => a.at - b.at)
    for (const timer of due) {
      this.#timers.delete(timer)
      timer.fire()
    }
  }
}

export interface StateApp {
  engine: Engine
  logs: Record<string, unknown>[]
  /** The `web` server's URL. */
  url(): string
  stop(): Promise<void>
}

/** Opens and starts the app in `dir` (its app.yaml; data in dir/data) with the state plugin over `clock`, and `plugins`. */
export async function startStateApp(dir: string, clock?: Clock, plugins: Plugin[] = []): Promise<StateApp> {
  const registry = createRegistry()
  for (const plugin of BUILTIN_PLUGINS) registry.register(plugin.name === 'state' ? createStatePlugin({ clock }) : plugin)
  for (const plugin of plugins) registry.register(plugin)
  const logs: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line))
      done()
    },
  })
  const logger = createLogger({ level: 'debug', pretty: false, destination })
  const engine = await openApp(join(dir, 'app.yaml'), { logger, registry, dataDir: join(dir, 'data'), env: { ...process.env } })
  await engine.start()
  return { engine, logs, url: () => engine.module<HttpServer>('web').url(), stop: () => engine.stop() }
}
