// Test-only scaffolding for this plugin's unit tests: temp folders, silent/recording loggers, and hand-made
// ModuleContext / StepContext / RunScope objects standing in for the engine.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import type { Logger, ModuleContext, RunScope, StepContext, Template } from '@islet/sdk'
import { createSqliteModule, type SqliteConfig, type SqliteModule } from './sqlite-module.ts'

export const silentLogger = pino({ level: 'silent' }) as unknown as Logger

/** A real pino logger whose JSON lines are collected, to assert what an operator would read. */
export function recordingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line)) } })
  return { logger: logger as unknown as Logger, lines }
}

/** Fresh temp folders, removed by `cleanup()` (call it in afterEach). */
export function tempDirs(): { make(): string; cleanup(): void } {
  const made: string[] = []
  return {
    make: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'islet-storage-'))
      made.push(dir)
      return dir
    },
    cleanup: () => { for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true }) },
  }
}

export interface ModuleContextOptions {
  dataDir: string
  /** Folder of the (imaginary) YAML file that declared the module; `resolvePath` is relative to it. */
  yamlDir?: string
  name?: string
  logger?: Logger
}

export function moduleContext(options: ModuleContextOptions): ModuleContext {
  const yamlDir = options.yamlDir ?? options.dataDir
  return {
    name: options.name ?? 'orders-db',
    type: 'storage.sqlite',
    logger: options.logger ?? silentLogger,
    dataDir: options.dataDir,
    resolvePath: (p) => path.resolve(yamlDir, p),
    module: () => { throw new Error('not used by storage.sqlite') },
    pipeline: () => { throw new Error('not used by storage.sqlite') },
    service: () => { throw new Error('not used by storage.sqlite') },
    previous: () => undefined,
    compile: () => { throw new Error('not used by storage.sqlite') },
    engine: { state: 'starting', version: '0.1.0' },
  }
}

/** Creates and starts a storage.sqlite module with the defaults the engine's schema validation would fill in. */
export async function startSqlite(config: Partial<SqliteConfig> & { file: string },
  ctx: ModuleContext): Promise<SqliteModule> {
  const module = createSqliteModule({ busyTimeoutMs: 5000, readonly: false, synchronous: 'NORMAL', ...config }, ctx)
  await module.start?.()
  return module
}

/**
 * A StepContext over the given modules. `compile` is a stand-in for the engine's: it walks arrays and objects and
 * calls any function it finds with the run's scope, so tests pass `(scope) => value` where YAML would hold a
 * `${{ … }}` expression. Real expressions are covered end to end by the engine's suites.
 */
export function stepContext(modules: Record<string, object>, step = 'orders-step'): StepContext {
  const evaluate = (value: unknown, scope: RunScope): unknown => {
    if (typeof value === 'function') return value(scope)
    if (Array.isArray(value)) return value.map((item) => evaluate(item, scope))
    if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, evaluate(item, scope)]))
    }
    return value
  }
  return {
    pipeline: 'orders',
    step,
    logger: silentLogger,
    dataDir: os.tmpdir(),
    resolvePath: (p) => path.resolve(p),
    module: <T extends object>(name: string) => {
      const module = modules[name]
      if (!module) throw new Error(`test: no module '${name}'`)
      return module as T
    },
    service: () => { throw new Error('not used by the sql steps') },
    compile: <T>(value: unknown): Template<T> => (scope) => evaluate(value, scope) as T,
  }
}

/** The scope of one run, with `body` as the request body. */
export function runScope(body: unknown = undefined): RunScope {
  const never = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} }
  return {
    trigger: 'http', id: 'req-1', input: body, meta: { method: 'POST', path: '/orders' }, locals: {},
    view: { body, params: {}, query: {}, headers: {}, request: { id: 'req-1', method: 'POST', path: '/orders' } },
    steps: {},
    logger: silentLogger,
    signal: never,
    respond: () => {},
  }
}

/** The schema the step tests run against: constraints of every kind a caller can trip. */
export const ORDERS_SCHEMA = `
  CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE orders (
    id        INTEGER PRIMARY KEY,
    sku       TEXT NOT NULL UNIQUE,
    qty       INTEGER NOT NULL DEFAULT 1 CONSTRAINT qty_positive CHECK (qty > 0),
    note      TEXT,
    paid      INTEGER,
    placed_at TEXT,
    customer  INTEGER REFERENCES customers(id)
  );
  INSERT INTO customers (id, name) VALUES (1, 'Ada');`

/** Compiles a step of `stepType` against the modules, as the engine would once per generation. */
export async function createStep(stepType: { create(config: never, ctx: StepContext): unknown },
  config: Record<string, unknown>, modules: Record<string, object>): Promise<(scope: RunScope) => unknown> {
  const run = await stepType.create(config as never, stepContext(modules))
  return run as (scope: RunScope) => unknown
}

/** A param value read from the request body per run: what `${{ body.<key> }}` does in YAML. */
export function fromBody(key: string): (scope: RunScope) => unknown {
  return (scope) => (scope.input as Record<string, unknown>)[key]
}
