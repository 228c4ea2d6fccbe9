// Hostile-code corpus support: writes each component's TypeScript into a fresh temp folder and runs it in a real
// component host (one sandbox worker per test file) beside a well-behaved canary that must keep answering.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { expect } from 'vitest'
import { until } from '../support/until.ts'
import { createComponentHost, type ComponentHost, type ComponentHostOptions } from '../../runtime/components/host.ts'
import { compileComponent } from '../../runtime/components/compile.ts'
import type { ComponentDecl, ComponentGrants, Limits, SandboxConfig } from '../../runtime/config/types.ts'
import { IsletError } from '../../runtime/errors.ts'
import { createEventBus, type EngineEvent } from '../../runtime/events/bus.ts'
import { createLogger } from '../../runtime/log/logger.ts'

const MiB = 1024 * 1024
/**
 * Room enough that no limit is ever reached by accident, even on a loaded machine: the host's default, so the canary
 * and every component whose point is not a limit run under it.
 */
export const ROOMY = { timeoutMs: 20_000, cpuMs: 20_000, memoryMb: 128, hostCalls: 10_000, outputBytes: 8 * MiB } as const satisfies Limits
/** Each limit set small, so its breach is quick. A test takes only the one it is about (see `only`). */
export const TIGHT = { timeoutMs: 500, cpuMs: 300, memoryMb: 32, hostCalls: 20, outputBytes: 65_536 } as const satisfies Limits
/**
 * Roomy everything except `name`, which is tight: a breach is then classified as that limit and nothing else,
 * whatever the machine's load (a wall-clock budget racing the heap or the CPU budget is what made these flaky).
 */
export function only(name: keyof typeof TIGHT, overrides: Limits = {}): Limits {
  return { ...ROOMY, [name]: TIGHT[name], ...overrides }
}
export const QUARANTINE_OFF: SandboxConfig['quarantine'] = { breaches: 1_000_000, windowMs: 1, baseMs: 1, maxMs: 1 }

/** One component of a test host: its whole TypeScript source, and what the app grants and sets for it. */
export interface HostileComponent {
  source: string
  grants?: Partial<ComponentGrants>
  limits?: Limits
  config?: unknown
}

export interface HostileHostOptions {
  limits?: Limits
  quarantine?: SandboxConfig['quarantine']
  /** Default `shared`, in one worker: every component beside the canary. */
  isolation?: SandboxConfig['isolation']
  env?: Record<string, string>
  lookup?: ComponentHostOptions['lookup']
}

export interface LogLine {
  level: number
  msg: string
  component?: string
  [field: string]: unknown
}

export interface HostileHost {
  host: ComponentHost
  /** Every JSON line the host's logger wrote. */
  logs: LogLine[]
  /** Every event a component published on the bus. */
  events: EngineEvent[]
  /** The host's data directory (the kv store's SQLite file lives here). */
  dataDir: string
  invoke(name: string, input?: unknown): Promise<unknown>
  /** The IsletError `invoke` rejects with; fails the test when it resolves or rejects with anything else. */
  failure(name: string, input?: unknown): Promise<IsletError>
  /** Asserts the canary, in the same host and worker, still answers correctly. */
  expectCanary(): Promise<void>
  /**
   * Compiles `source` and loads it on its own into this host's sandbox (same worker as the canary), as the host
   * does at start: module evaluation runs, under `limits` (default: the host's). Resolves with the classified
   * IsletError; fails the test if it loads.
   */
  loadFailure(source: string, limits?: Limits): Promise<IsletError>
  /** The sandbox worker processes' pids (a crash-and-restart changes it). */
  pids(): Promise<number[]>
  /** The pid of the sandbox worker `name` is placed in (undefined when none has it loaded). */
  pidOf(name: string): Promise<number | undefined>
  stop(): Promise<void>
}

/** A component source: the sdk import, `prelude` at module level, then a definition with these members. */
export function component(members: string, prelude = '', name = 'hostile'): string {
  return `import { defineComponent } from '@islet/sdk'\n${prelude}\nexport default defineComponent({\n  name: '${name}',\n${members}\n})\n`
}

/**
 * A component whose `execute` runs `attack` when the input says `{ attack: true }` and otherwise returns how many
 * times this isolate has run it: after a breach, `{ calls: 1 }` proves the next call got a fresh isolate.
 * `attack` runs inside `async execute(input: any, ctx: any)`, after `prelude` ran at module level.
 */
export function attacker(attack: string, prelude = ''): string {
  return component(`  async execute(input: any, ctx: any) {
    calls++
    if (input && input.attack) {
${attack}
    }
    return { calls }
  },`, `let calls = 0;\n${prelude};`)
}

/** A well-behaved component: answers `{ n }` with `{ doubled, text }`. */
export const CANARY = component(`  input: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
  async execute(input: { n: number }) {
    return { doubled: input.n * 2, text: 'canary:' + String(input.n) }
  },`, '', 'canary')

function writeComponent(root: string, name: string, source: string): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'index.ts')
  writeFileSync(file, source)
  return file
}

function declare(root: string, name: string, spec: HostileComponent): ComponentDecl {
  const file = writeComponent(root, name, spec.source)
  const at = { file, line: 1, col: 1 }
  return {
    name, file, limits: spec.limits ?? {}, config: spec.config ?? {}, source: at, configSource: at,
    grants: { kv: false, emit: [], secrets: [], ...spec.grants },
  }
}

function collectingLogger(logs: LogLine[]) {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as LogLine)
      done()
    },
  })
  return createLogger({ level: 'debug', pretty: false, destination })
}

function hostOptions(root: string, components: Record<string, HostileComponent | string>, options: HostileHostOptions, logs: LogLine[], events: EngineEvent[]): ComponentHostOptions {
  const bus = createEventBus()
  const publish = bus.publish
  bus.publish = (event) => { events.push(event); publish(event) }
  return {
    components: Object.entries(components).map(([name, spec]) => declare(root, name, typeof spec === 'string' ? { source: spec } : spec)),
    sandbox: { workers: 1, isolation: options.isolation ?? 'shared', limits: { ...ROOMY, ...options.limits }, quarantine: options.quarantine ?? QUARANTINE_OFF },
    logger: collectingLogger(logs), dataDir: join(root, 'data'), bus, env: options.env ?? {},
    ...(options.lookup ? { lookup: options.lookup } : {}),
  }
}

/** The IsletError a promise rejects with; fails the test on success or on any other rejection. */
export async function rejection(promise: Promise<unknown>): Promise<IsletError> {
  let value: unknown
  try {
    value = await promise
  } catch (error) {
    if (error instanceof IsletError) return error
    throw error
  }
  throw new Error(`expected a rejection with an IsletError, got ${JSON.stringify(value)?.slice(0, 200)}`)
}

/** Starts a host with the canary and `components`, all in one sandbox worker. Stop it in afterAll. */
export async function startHostile(components: Record<string, HostileComponent | string>, options: HostileHostOptions = {}): Promise<HostileHost> {
  const root = mkdtempSync(join(tmpdir(), 'islet-hostile-'))
  const logs: LogLine[] = []
  const events: EngineEvent[] = []
  const host = createComponentHost(hostOptions(root, { canary: CANARY, ...components }, options, logs, events))
  try {
    await host.start()
  } catch (error) {
    rmSync(root, { recursive: true, force: true })
    throw error
  }
  let loads = 0
  let canaryRuns = 0
  const self: HostileHost = {
    host, logs, events, dataDir: join(root, 'data'),
    invoke: (name, input = {}) => host.invoke(name, input),
    failure: (name, input = { attack: true }) => rejection(host.invoke(name, input)),
    async expectCanary() {
      const n = ++canaryRuns
      expect(await host.invoke('canary', { n })).toEqual({ doubled: n * 2, text: `canary:${n}` })
    },
    async loadFailure(source, limits) {
      const n = ++loads
      const file = writeComponent(root, `load-${n}`, source)
      const compiled = await compileComponent(file)
      const key = `load-${n}@${n}`
      const { memoryMb, timeoutMs } = { ...ROOMY, ...options.limits, ...limits }
      // What the host's own load passes: the app's memory limit, and a load deadline of at least a second.
      const loaded = host.sandbox().load({
        key, name: `load-${n}`, generation: n, code: compiled.code, memoryMb, loadTimeoutMs: Math.max(timeoutMs, 1000), config: {},
      })
      try {
        return await rejection(loaded)
      } finally {
        host.sandbox().unload(key)
      }
    },
    async pids() {
      return (await host.sandbox().stats()).map((s) => s.pid)
    },
    async pidOf(name) {
      return (await host.sandbox().stats()).find((s) => s.components.includes(name))?.pid
    },
    async stop() {
      await host.stop()
      rmSync(root, { recursive: true, force: true })
    },
  }
  return self
}

/**
 * Builds a host holding only `spec` and starts it, for attacks that happen while a component loads (module
 * evaluation, init): a load failure fails `start()`. Resolves with the start error; the host is stopped.
 */
export async function startFailure(spec: HostileComponent | string, options: HostileHostOptions = {}): Promise<{ error: IsletError; logs: LogLine[] }> {
  const root = mkdtempSync(join(tmpdir(), 'islet-hostile-'))
  const logs: LogLine[] = []
  const host = createComponentHost(hostOptions(root, { hostile: spec }, options, logs, []))
  try {
    return { error: await rejection(host.start()), logs }
  } finally {
    await host.stop()
    rmSync(root, { recursive: true, force: true })
  }
}

/**
 * Asserts that attacking `name` (an `attacker`) fails with `code`, and that the next call runs in a fresh
 * isolate: its module-level counter starts again at 1.
 */
export async function expectBreach(h: HostileHost, name: string, code: string, input: unknown = { attack: true }): Promise<IsletError> {
  const error = await h.failure(name, input)
  expect(error.code).toBe(code)
  expect(await h.invoke(name, {})).toEqual({ calls: 1 })
  return error
}

/** The classified code behind a failed `start()`: ERR_COMPONENT_LOAD_FAILED names each component's cause. */
export function loadCause(error: IsletError): string {
  expect(error.code).toBe('ERR_COMPONENT_LOAD_FAILED')
  const causes = error.details.causes as { component: string; code: string }[]
  expect(causes).toHaveLength(1)
  return causes[0]!.code
}

/** Resolves once `predicate` holds (log lines and events arrive asynchronously); fails the test after `ms`. */
export function eventually(predicate: () => boolean, ms = 10_000): Promise<void> {
  return until(predicate, { ms, everyMs: 10, explain: () => predicate.toString() })
}
