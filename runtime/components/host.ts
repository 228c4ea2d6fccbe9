// The component host: compiles each declared component, loads it into the sandbox as a generation with its
// validators and capabilities, invokes it with limits, and quarantines one that keeps breaching them.
import { join } from 'node:path'
import type { Logger } from '@islet/sdk'
import type { ComponentDecl, LimitName, SandboxConfig } from '../config/types.ts'
import { formatDiagnostics } from '../config/diagnostics.ts'
import { IsletError, isIsletError, messageOf } from '../errors.ts'
import type { EventBus } from '../events/bus.ts'
import { openKvStore, type KvStore } from '../sandbox/capabilities/kv.ts'
import type { ComponentMetaDto, InvocationLimitsDto } from '../sandbox/protocol.ts'
import { createSandbox, type Sandbox } from '../sandbox/supervisor.ts'
import { createCapabilities, type Capabilities, type CapabilityDeps } from './capabilities.ts'
import { ComponentCompileError, createCompileCache } from './compile.ts'
import { effectiveLimits } from './limits.ts'

/** Codes that count as breaching limits (towards quarantine). */
const BREACHES = new Set(['ERR_SANDBOX_TIMEOUT', 'ERR_SANDBOX_CPU_LIMIT', 'ERR_SANDBOX_MEMORY_LIMIT', 'ERR_SANDBOX_OUTPUT_LIMIT', 'ERR_SANDBOX_HOST_CALL_LIMIT', 'ERR_SANDBOX_CRASHED'])

export interface ComponentHostOptions {
  components: readonly ComponentDecl[]
  sandbox: SandboxConfig
  logger: Logger
  dataDir: string
  bus: EventBus
  env?: Record<string, string | undefined>
  lookup?: CapabilityDeps['lookup']
}

export interface ComponentStatus {
  name: string
  generation: number
  sourceHash: string
  state: 'ready' | 'quarantined'
  lastError?: { code: string; message: string; at: string }
}

/** One loaded generation of a component. */
export interface Generation {
  decl: ComponentDecl
  number: number
  key: string
  hash: string
  meta: ComponentMetaDto
  limits: Record<LimitName, number>
  invocation: InvocationLimitsDto
  caps: Capabilities
}

interface Health {
  breaches: number[]
  until: number
  backoffMs: number
  lastError?: ComponentStatus['lastError']
}

export interface ComponentHost {
  start(): Promise<void>
  has(name: string): boolean
  /** Validates input, runs `execute` in the sandbox, validates output. Rejects with an IsletError with an ERR_ code. */
  invoke(name: string, input: unknown): Promise<unknown>
  generation(name: string): Generation | undefined
  status(): ComponentStatus[]
  sandbox(): Sandbox
  stop(): Promise<void>
}

export function createComponentHost(options: ComponentHostOptions): ComponentHost {
  const { logger, sandbox: settings } = options
  const env = options.env ?? process.env
  const compiler = createCompileCache()
  let kv: KvStore | undefined
  const current = new Map<string, Generation>()
  const byKey = new Map<string, Generation>()
  const health = new Map<string, Health>()
  let counter = 0
  const sandbox = createSandbox({
    workers: settings.workers, logger,
    onHostCall(key, op, args, invocation) {
      const gen = byKey.get(key)
      if (!gen) return Promise.reject(new IsletError('ERR_CAPABILITY_DENIED', 'this component generation is no longer loaded'))
      return gen.caps.handle(op, args, invocation)
    },
    onLog(key, lines, dropped) {
      const gen = byKey.get(key)
      const log = logger.child({ component: gen?.decl.name ?? key, generation: gen?.number })
      for (const line of lines) {
        let fields: Record<string, unknown> = {}
        if (line.fields) {
          try {
            const parsed = JSON.parse(gen ? gen.caps.redact(line.fields) : line.fields) as unknown
            fields = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? { fields: parsed } : { fields: parsed }
          } catch { fields = {} }
        }
        log[line.level](fields, gen ? gen.caps.redact(line.message) : line.message)
      }
      if (dropped > 0) log.warn({ dropped }, `${dropped} log line(s) dropped: the component logs faster than its limit`)
    },
  })

  async function load(decl: ComponentDecl): Promise<Generation> {
    let compiled
    try {
      compiled = await compiler.compile(decl.file)
    } catch (error) {
      if (error instanceof ComponentCompileError) {
        throw new IsletError('ERR_COMPONENT_LOAD_FAILED', `component '${decl.name}' does not compile:\n${formatDiagnostics(error.diagnostics)}`,
          { cause: error, details: { component: decl.name, diagnostics: error.diagnostics } })
      }
      throw error
    }
    if (decl.grants.kv && !kv) kv = openKvStore(join(options.dataDir, 'islet-kv.db'))
    const caps = createCapabilities(decl, { kv, bus: options.bus, env, logger, lookup: options.lookup })
    const number = ++counter
    const key = `${decl.name}@${number}`
    const spec = (limits: Record<LimitName, number>) => ({
      key, name: decl.name, generation: number, code: compiled.code, memoryMb: limits.memoryMb,
      loadTimeoutMs: Math.max(limits.timeoutMs, 1000), config: decl.config,
    })
    const appLimits = effectiveLimits(settings.limits, decl.limits, undefined)
    let meta: ComponentMetaDto
    try {
      meta = await sandbox.load(spec(appLimits))
    } catch (error) {
      if (!isIsletError(error, 'ERR_COMPONENT_CONFIG_INVALID')) throw error
      const where = `${decl.configSource.file}:${decl.configSource.line}:${decl.configSource.col}`
      throw new IsletError('ERR_COMPONENT_CONFIG_INVALID', `${where} ${error.message}`, { details: { component: decl.name, ...decl.configSource, ...error.details } })
    }
    const limits = effectiveLimits(settings.limits, decl.limits, meta.limits)
    // The component asked for less memory than the app allows: it runs with what it asked for.
    if (limits.memoryMb < appLimits.memoryMb) meta = await sandbox.load(spec(limits))
    const gen: Generation = {
      decl, number, key, hash: compiled.hash, meta, limits, caps,
      invocation: { timeoutMs: limits.timeoutMs, cpuMs: limits.cpuMs, hostCalls: limits.hostCalls, outputBytes: limits.outputBytes },
    }
    byKey.set(key, gen)
    if (meta.hasInit) {
      try {
        await sandbox.invoke(key, 'init', 'null', gen.invocation)
      } catch (error) {
        byKey.delete(key)
        sandbox.unload(key)
        throw new IsletError('ERR_COMPONENT_LOAD_FAILED', `component '${decl.name}': init failed: ${caps.redact(messageOf(error))}`,
          { cause: error, details: { component: decl.name, code: (error as IsletError).code } })
      }
    }
    return gen
  }

  function breach(name: string, error: IsletError): void {
    const h = health.get(name) ?? { breaches: [], until: 0, backoffMs: settings.quarantine.baseMs }
    health.set(name, h)
    h.lastError = { code: error.code, message: error.message, at: new Date().toISOString() }
    if (!BREACHES.has(error.code)) return
    const now = Date.now()
    h.breaches = [...h.breaches.filter((t) => t > now - settings.quarantine.windowMs), now]
    if (h.breaches.length < settings.quarantine.breaches) return
    h.until = now + h.backoffMs
    logger.warn({ component: name, backoffMs: h.backoffMs, code: error.code }, `component '${name}' quarantined for ${h.backoffMs} ms after ${h.breaches.length} limit breaches`)
    h.backoffMs = Math.min(settings.quarantine.maxMs, h.backoffMs * 2)
    h.breaches = []
  }

  return {
    async start() {
      await sandbox.start()
      const failures: string[] = []
      /** Each failed component and the code that classified its failure (ERR_SANDBOX_TIMEOUT, …), for callers to match. */
      const causes: { component: string; code: string }[] = []
      for (const decl of options.components) {
        try {
          const gen = await load(decl)
          current.set(decl.name, gen)
          logger.info({ component: decl.name, generation: gen.number, hash: gen.hash.slice(0, 12) }, `component '${decl.name}' loaded`)
        } catch (error) {
          const code = isIsletError(error) ? (typeof error.details.code === 'string' ? error.details.code : error.code) : 'ERR_COMPONENT_LOAD_FAILED'
          const message = messageOf(error)
          failures.push(message.includes(`'${decl.name}'`) ? message : `component '${decl.name}': ${message}`)
          causes.push({ component: decl.name, code })
        }
      }
      if (failures.length > 0) {
        await sandbox.stop()
        throw new IsletError('ERR_COMPONENT_LOAD_FAILED', failures.join('\n'), { details: { failures, causes } })
      }
    },
    has: (name) => current.has(name),
    generation: (name) => current.get(name),
    async invoke(name, input) {
      const gen = current.get(name)
      if (!gen) throw new IsletError('ERR_COMPONENT_NOT_FOUND', `no component named '${name}' is loaded`)
      const h = health.get(name)
      if (h && h.until > Date.now()) {
        throw new IsletError('ERR_COMPONENT_QUARANTINED', `component '${name}' keeps breaching its limits and is refused for another ${Math.ceil((h.until - Date.now()) / 1000)} s`)
      }
      const json = JSON.stringify(input ?? null)
      if (Buffer.byteLength(json) > gen.limits.inputBytes) {
        throw new IsletError('ERR_SANDBOX_INPUT_LIMIT', `the input to component '${name}' is larger than ${gen.limits.inputBytes} bytes`)
      }
      let text: string
      try {
        text = await sandbox.invoke(gen.key, 'execute', json, gen.invocation)
      } catch (error) {
        const e = isIsletError(error) ? error : new IsletError('ERR_SANDBOX_CRASHED', messageOf(error))
        const safe = new IsletError(e.code, gen.caps.redact(e.message), { details: { ...e.details, component: name, generation: gen.number } })
        breach(name, safe)
        throw safe
      }
      return JSON.parse(text) as unknown
    },
    status: () => [...current.values()].map((gen) => {
      const h = health.get(gen.decl.name)
      return {
        name: gen.decl.name, generation: gen.number, sourceHash: gen.hash,
        state: h && h.until > Date.now() ? 'quarantined' : 'ready', ...(h?.lastError ? { lastError: h.lastError } : {}),
      }
    }),
    sandbox: () => sandbox,
    async stop() {
      await sandbox.stop()
      await Promise.allSettled([...byKey.values()].map((g) => g.caps.close()))
      kv?.close()
      kv = undefined
    },
  }
}
