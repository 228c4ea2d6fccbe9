// Test support: write an app's YAML files into a fresh temp folder, open and start it on an ephemeral loopback port.
import { join } from 'node:path'
import { writeFiles } from './files.ts'
import type { Plugin } from '@islet/sdk'
import { openApp } from '../../runtime/app.ts'
import type { Engine } from '../../runtime/engine/engine.ts'
import { createBuiltinRegistry } from '../../runtime/builtins.ts'
import { createLogger } from '../../runtime/log/logger.ts'
import type { HttpServer } from '../../plugins/http/index.ts'
import { Writable } from 'node:stream'
import { writeFileSync } from 'node:fs'
import { loadConfig } from '../../runtime/config/load.ts'
import { ConfigError } from '../../runtime/config/diagnostics.ts'
import type { AppConfig } from '../../runtime/config/types.ts'

export interface TestApp {
  engine: Engine
  dir: string
  url: string
  /** Every JSON log line the app wrote. */
  logs: Record<string, unknown>[]
  /** The same lines as written (JSON.parse keeps only the last of two equal keys; these show both). */
  rawLogs: string[]
  close(): Promise<void>
}

export { writeFiles }

export interface OpenedApp extends Omit<TestApp, 'url'> {
  /** Resolves when engine.start() does. */
  started: Promise<void>
  /** The server's URL; throws until it listens. */
  url(): string
}

/** Opens the app and begins starting it without waiting, for tests that look at it while it starts. */
export async function openTestApp(files: Record<string, string>, options: TestAppOptions = {}): Promise<OpenedApp> {
  const { dir, cleanup } = writeFiles(files)
  await options.prepare?.(dir)
  const registry = createBuiltinRegistry()
  for (const plugin of options.plugins ?? []) registry.register(plugin)
  const logs: Record<string, unknown>[] = []
  const rawLogs: string[] = []
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) { rawLogs.push(line); logs.push(JSON.parse(line)) }
      done()
    },
  })
  const logger = createLogger({ level: 'debug', pretty: false, destination })
  let engine: Engine
  try {
    engine = await openApp(join(dir, 'app.yaml'), {
      logger, registry, dataDir: join(dir, 'data'), env: { ...process.env, ...options.env },
    })
  } catch (error) {
    // A config the test expects refused: its folder goes too.
    cleanup()
    throw error
  }
  const started = engine.start()
  started.catch(() => {})
  return {
    engine, dir, logs, rawLogs, started,
    url: () => engine.module<HttpServer>(options.server ?? 'web').url(),
    async close() {
      await engine.stop()
      cleanup()
    },
  }
}

export interface TestAppOptions {
  plugins?: Plugin[]
  /** The http.server module whose URL the tests use; default `web`. */
  server?: string
  env?: Record<string, string>
  /** Runs on the app folder once its files are written, before it is opened (e.g. to lock registry plugins). */
  prepare?: (dir: string) => unknown
}

export async function startApp(files: Record<string, string>, options: TestAppOptions = {}): Promise<TestApp> {
  const opened = await openTestApp(files, options)
  try {
    await opened.started
  } catch (error) {
    // An app the test expects to fail at start: nobody else will close it and remove its folder.
    await opened.close().catch(() => {})
    throw error
  }
  return { ...opened, url: opened.url() }
}

/** Writes `yaml` over the app's file and loads it the way the config watcher does (with `plugins` registered). */
export async function editConfig(t: { dir: string }, yaml: string, plugins: Plugin[] = []): Promise<AppConfig> {
  writeFileSync(join(t.dir, 'app.yaml'), yaml)
  const registry = createBuiltinRegistry()
  for (const plugin of plugins) registry.register(plugin)
  const { config, diagnostics } = await loadConfig(join(t.dir, 'app.yaml'), { registry, env: process.env })
  if (!config) throw new ConfigError(diagnostics)
  return config
}

/** A response's JSON body, typed loosely for assertions. */
// `any` on purpose: tests assert on the shapes they expect, and a wrong shape fails the assertion.
export async function json(res: Response): Promise<any> {
  return res.json()
}
