// The sandbox supervisor (engine side): spawns and restarts worker processes, routes loads and invocations to
// them, answers guests' host calls through the caller's capability handler, and keeps a backup deadline per call
// in case a worker stops answering. A caller's abort signal cancels its call across the boundary.
import { fork, type ChildProcess } from 'node:child_process'
import type { AbortSignalLike, Logger } from '@islet/sdk'
import { IsletError, isIsletError, type ErrorCode } from '../errors.ts'
import type { ComponentMetaDto, ErrorDto, GuestLogLineDto, HostOp, InvocationLimitsDto, SupervisorMessage, WorkerMessage } from './protocol.ts'
import { CEILING_BASE_BYTES, ceilingForComponent, lostCallError, mb, watchMemory, WORKER_SCRIPT, workerExecArgv, type MemoryCeiling } from './worker-process.ts'

export interface LoadSpec {
  /** Unique per component generation, e.g. `price-quote@3`. */
  key: string
  /** Generations of one component share a worker. */
  name: string
  generation: number
  code: string
  memoryMb: number
  loadTimeoutMs: number
  config: unknown
}

export interface SandboxOptions {
  workers: number
  logger: Logger
  /**
   * Performs a guest's capability call; rejections with an IsletError pass their code and message to the guest.
   * `signal` aborts when the worker no longer wants the answer (the invocation was cancelled or its isolate reset).
   */
  onHostCall(key: string, op: HostOp, args: unknown[], invocation: number, signal: AbortSignal): Promise<unknown>
  onLog(key: string, lines: GuestLogLineDto[], dropped: number): void
  /** How long past an invocation's own deadline the supervisor waits before killing its worker. */
  graceMs?: number
  /**
   * Tests only, never set from config: spawn this script instead of worker.ts (a forged or misbehaving worker that
   * imports the real one), with the same flags plus read access to the script itself.
   */
  testWorkerScript?: string
}

export interface Sandbox {
  start(): Promise<void>
  load(spec: LoadSpec): Promise<ComponentMetaDto>
  /** Runs `execute` (or `init`) with JSON text input; resolves with JSON text output; rejects with an IsletError. */
  invoke(key: string, kind: 'execute' | 'init', input: string, limits: InvocationLimitsDto, options?: InvokeOptions): Promise<string>
  unload(key: string): void
  /** Per worker; `invocations` and `hostCalls` are what it has in flight (0 and 0 when idle). */
  stats(): Promise<WorkerStats[]>
  stop(): Promise<void>
}

export interface InvokeOptions {
  /**
   * Aborts when the caller gives up (request timeout, client gone): the call rejects at once with
   * ERR_SANDBOX_CANCELLED, the worker stops the invocation and the host calls it was waiting on are aborted.
   */
  signal?: AbortSignalLike
}

export interface WorkerStats {
  pid: number
  rss: number
  heapUsed: number
  external: number
  isolates: number
  invocations: number
  hostCalls: number
}

interface Call {
  resolve(output: string): void
  reject(error: IsletError): void
  timer?: NodeJS.Timeout
}

/** A guest's capability call being answered in the engine; aborted when the worker drops it or goes away. */
interface HostCall {
  invocation: number
  controller: AbortController
}

interface Worker {
  child: ChildProcess
  pid: number
  ready: Promise<void>
  /** Loads done in this incarnation of the worker. */
  loaded: Map<string, Promise<ComponentMetaDto>>
  loads: Map<string, { resolve(meta: ComponentMetaDto): void; reject(error: IsletError): void }>
  calls: Map<number, Call>
  hostCalls: Map<number, HostCall>
  /**
   * Every component generation the engine sent to this incarnation of the worker: the only keys its host calls and
   * logs may name. Never shrinks (an unloaded generation's last log lines and host calls may still be on the way).
   */
  placed: Set<string>
  /** Its RSS ceiling, raised as components are placed in it. */
  memory: MemoryCeiling
}

export function sandboxError(dto: ErrorDto): IsletError {
  return new IsletError(dto.code as ErrorCode, dto.message, dto.details ? { details: dto.details } : {})
}

export function createSandbox(options: SandboxOptions): Sandbox {
  const { logger } = options
  const graceMs = options.graceMs ?? 1000
  const workers: (Worker | undefined)[] = new Array(Math.max(1, options.workers)).fill(undefined)
  const specs = new Map<string, LoadSpec>()
  const restarts: number[] = []
  let seq = 0
  let stopping = false

  const slotOf = (name: string) => {
    let h = 0
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0
    return Math.abs(h) % workers.length
  }

  function spawnWorker(index: number): Worker {
    const script = options.testWorkerScript ?? WORKER_SCRIPT
    // Permission model flags (worker-process.ts), and an empty environment: workers need nothing from it, and
    // secrets in it must not reach sandboxes.
    const execArgv = workerExecArgv(options.testWorkerScript ? [options.testWorkerScript] : [])
    const stdio = ['ignore', 'inherit', 'inherit', 'ipc'] as const
    const child = fork(script, [], { execArgv, serialization: 'json', stdio: [...stdio], env: {} })
    let markReady!: () => void
    const pid = child.pid ?? 0
    const worker: Worker = {
      child, pid, ready: new Promise((resolve) => { markReady = resolve }),
      loaded: new Map(), loads: new Map(), calls: new Map(), hostCalls: new Map(), placed: new Set(),
      memory: watchMemory(pid, CEILING_BASE_BYTES, ({ rssBytes, ceilingBytes }) => {
        logger.error({ pid, rssMb: mb(rssBytes), ceilingMb: mb(ceilingBytes), components: [...worker.loaded.keys()], code: 'ERR_SANDBOX_MEMORY_LIMIT' },
          'sandbox worker over its memory ceiling; killing it')
        killUnresponsive(worker)
      }),
    }
    child.on('message', (msg: WorkerMessage) => onMessage(worker, msg, markReady))
    child.once('exit', (code, signal) => onExit(index, worker, code, signal))
    workers[index] = worker
    return worker
  }

  function onMessage(worker: Worker, msg: WorkerMessage, markReady: () => void): void {
    if ((msg.t === 'host-call' || msg.t === 'log') && !worker.placed.has(msg.key)) return refuseForged(worker, msg)
    switch (msg.t) {
      case 'ready': return markReady()
      case 'loaded': return worker.loads.get(msg.key)?.resolve(msg.meta)
      case 'load-failed': return worker.loads.get(msg.key)?.reject(sandboxError(msg.error))
      case 'result': return settle(worker, msg.id)?.resolve(msg.output)
      case 'error': return settle(worker, msg.id)?.reject(sandboxError(msg.error))
      case 'log': return options.onLog(msg.key, msg.lines, msg.dropped)
      case 'stats': return settle(worker, msg.id)?.resolve(JSON.stringify(msg))
      case 'host-cancel': return abortHostCalls(worker, msg.ids)
      case 'host-call': {
        const controller = new AbortController()
        worker.hostCalls.set(msg.id, { invocation: msg.invocation, controller })
        // An aborted call is no longer in the map: the worker dropped it and takes no answer.
        const reply = (m: SupervisorMessage) => { if (worker.hostCalls.delete(msg.id) && worker.child.connected) worker.child.send(m) }
        let args: unknown[]
        try { args = JSON.parse(msg.args) as unknown[] } catch { args = [] }
        options.onHostCall(msg.key, msg.op, Array.isArray(args) ? args : [], msg.invocation, controller.signal).then(
          (value) => reply({ t: 'host-result', id: msg.id, ok: true, value: JSON.stringify(value ?? null) }),
          (error: unknown) => reply({ t: 'host-result', id: msg.id, ok: false, error: toGuestError(error, logger) }),
        )
      }
    }
  }

  /**
   * A worker spoke for a component the engine never placed in it: only code outside the isolates can forge that, so
   * the worker is treated as taken over. Nothing is answered, no component is charged (the forger cannot be told
   * from its neighbours), and the worker is killed; its calls in flight are lost as in a crash.
   */
  function refuseForged(worker: Worker, msg: Extract<WorkerMessage, { t: 'host-call' | 'log' }>): void {
    if (worker.child.killed) return // already refused and killed: one alarm per worker, however many it sent
    const key = String(msg.key).slice(0, 200)
    logger.error({ pid: worker.pid, key, message: msg.t, op: msg.t === 'host-call' ? String(msg.op).slice(0, 50) : undefined, placed: [...worker.placed], code: 'ERR_SANDBOX_WORKER_FORGED' },
      `ESCAPE ATTEMPT: sandbox worker pid ${worker.pid} sent a ${msg.t} for component '${key}', which was never placed in it; refused, killing the worker`)
    killUnresponsive(worker)
  }

  function abortHostCalls(worker: Worker, ids: Iterable<number>): void {
    for (const id of ids) {
      const call = worker.hostCalls.get(id)
      if (!call) continue
      worker.hostCalls.delete(id)
      call.controller.abort(new IsletError('ERR_SANDBOX_CANCELLED', 'the invocation that made this host call no longer waits for it'))
    }
  }

  function settle(worker: Worker, id: number): Call | undefined {
    const call = worker.calls.get(id)
    if (!call) return undefined
    worker.calls.delete(id)
    clearTimeout(call.timer)
    return call
  }

  function onExit(index: number, worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const why = signal ? `signal ${signal}` : `exit code ${code}`
    worker.memory.stop()
    for (const [id, call] of worker.calls) {
      worker.calls.delete(id)
      clearTimeout(call.timer)
      call.reject(lostCallError(worker.memory, why))
    }
    abortHostCalls(worker, [...worker.hostCalls.keys()])
    for (const [key, load] of worker.loads) load.reject(new IsletError('ERR_SANDBOX_CRASHED', `the sandbox worker stopped (${why}) while loading ${key}`))
    if (workers[index] === worker) workers[index] = undefined
    if (stopping) return
    logger.error({ pid: worker.pid, code, signal }, `sandbox worker stopped (${why}); its components come back on next use`)
    if (workers[index]) return // already replaced (it was retired when it was killed)
    const now = Date.now()
    restarts.push(now)
    while (restarts.length > 0 && restarts[0] < now - 10_000) restarts.shift()
    // A crash loop backs off instead of burning a core; components load lazily into the new worker anyway.
    if (restarts.length > 5) setTimeout(() => { if (!stopping && !workers[index]) spawnWorker(index) }, 1000).unref()
    else spawnWorker(index)
  }

  /** Kills a worker that stopped answering. Retired at once, not when its exit arrives: calls made meanwhile go to a new worker. */
  function killUnresponsive(worker: Worker): void {
    const index = workers.indexOf(worker)
    if (index !== -1) workers[index] = undefined
    worker.child.kill('SIGKILL')
  }

  async function workerFor(name: string): Promise<Worker> {
    const index = slotOf(name)
    const worker = workers[index] ?? spawnWorker(index)
    await worker.ready
    return worker
  }

  async function ensureLoaded(worker: Worker, key: string): Promise<ComponentMetaDto> {
    let loaded = worker.loaded.get(key)
    if (!loaded) {
      const spec = specs.get(key)
      if (!spec) throw new IsletError('ERR_COMPONENT_NOT_FOUND', `component generation ${key} is not loaded`)
      place(worker, key)
      loaded = new Promise<ComponentMetaDto>((resolve, reject) => {
        // Backup deadline, as for invocations: module code stuck in a builtin V8 cannot interrupt (a huge fill()) ignores
        // the worker's own load timeout, and would hold the worker and every component on it.
        const timer = setTimeout(() => {
          if (!worker.loads.has(key)) return
          reject(new IsletError('ERR_SANDBOX_TIMEOUT', `loading component '${spec.name}' did not finish within ${spec.loadTimeoutMs} ms and its worker did not answer; the worker was restarted`))
          logger.error({ pid: worker.pid, component: spec.name }, 'sandbox worker unresponsive past a load deadline; killing it')
          killUnresponsive(worker)
        }, spec.loadTimeoutMs + graceMs)
        const settle = <T>(f: (value: T) => void) => (value: T) => { clearTimeout(timer); f(value) }
        worker.loads.set(key, { resolve: settle(resolve), reject: settle(reject) })
        const { config, ...rest } = spec
        worker.child.send({ t: 'load', ...rest, config: JSON.stringify(config ?? {}) } satisfies SupervisorMessage)
      }).finally(() => worker.loads.delete(key))
      worker.loaded.set(key, loaded)
      loaded.catch(() => worker.loaded.delete(key))
    }
    return loaded
  }

  /** Binds `key` to the worker (its host calls and logs may name it) and raises the worker's memory ceiling for it. */
  function place(worker: Worker, key: string): void {
    worker.placed.add(key)
    let bytes = CEILING_BASE_BYTES
    for (const hosted of new Set([...worker.loaded.keys(), key])) bytes += ceilingForComponent(specs.get(hosted)?.memoryMb ?? 0)
    worker.memory.raise(bytes)
  }

  const cancelled = (name: string, signal: AbortSignalLike) =>
    new IsletError('ERR_SANDBOX_CANCELLED', `component '${name}' was cancelled: its caller stopped waiting (request timed out or client gone)`, { cause: signal.reason })

  async function invokeOnce(key: string, kind: 'execute' | 'init', input: string, limits: InvocationLimitsDto, signal?: AbortSignalLike): Promise<string> {
    const spec = specs.get(key)
    if (!spec) throw new IsletError('ERR_COMPONENT_NOT_FOUND', `component generation ${key} is not loaded`)
    const worker = await workerFor(spec.name)
    await ensureLoaded(worker, key)
    if (signal?.aborted) throw cancelled(spec.name, signal)
    const id = ++seq
    return new Promise<string>((resolve, reject) => {
      const stopListening = () => signal?.removeEventListener('abort', cancel)
      const call: Call = { resolve: (v) => { stopListening(); resolve(v) }, reject: (e) => { stopListening(); reject(e) } }
      // First wins: a result already received has settled the call and removed this listener. Otherwise the caller
      // is released now, and the call's entry (and backup timer) stays until the worker acknowledges the cancel with
      // its answer, which is then ignored: a worker that never answers is still found and killed.
      function cancel(): void {
        if (worker.calls.get(id) !== call) return
        const release = call.reject
        call.resolve = call.reject = () => {}
        release(cancelled(spec!.name, signal!))
        abortHostCalls(worker, [...worker.hostCalls].filter(([, h]) => h.invocation === id).map(([hostId]) => hostId))
        if (worker.child.connected) worker.child.send({ t: 'cancel', id } satisfies SupervisorMessage)
      }
      signal?.addEventListener('abort', cancel, { once: true })
      // Backup deadline: the worker enforces the real one; if it stops answering, it is killed.
      call.timer = setTimeout(() => {
        if (!worker.calls.delete(id)) return
        call.reject(new IsletError('ERR_SANDBOX_TIMEOUT', `component '${spec.name}' did not finish within ${limits.timeoutMs} ms and its worker did not answer; the worker was restarted`))
        logger.error({ pid: worker.pid, component: spec.name }, 'sandbox worker unresponsive past a deadline; killing it')
        killUnresponsive(worker)
      }, limits.timeoutMs + graceMs)
      worker.calls.set(id, call)
      worker.child.send({ t: 'invoke', id, key, kind, input, limits } satisfies SupervisorMessage)
    })
  }

  return {
    async start() {
      await Promise.all(workers.map((_, i) => (workers[i] ?? spawnWorker(i)).ready))
    },
    async load(spec) {
      specs.set(spec.key, spec)
      const worker = await workerFor(spec.name)
      worker.loaded.delete(spec.key)
      try {
        return await ensureLoaded(worker, spec.key)
      } catch (error) {
        specs.delete(spec.key)
        throw error
      }
    },
    async invoke(key, kind, input, limits, { signal } = {}) {
      // Already aborted: nothing is sent, no worker is started for it.
      if (signal?.aborted) throw cancelled(specs.get(key)?.name ?? key, signal)
      try {
        return await invokeOnce(key, kind, input, limits, signal)
      } catch (error) {
        // The worker restarted between load and invoke: load into the new one and try once more.
        if (isIsletError(error, 'ERR_SANDBOX_NOT_LOADED')) return invokeOnce(key, kind, input, limits, signal)
        throw error
      }
    },
    unload(key) {
      const spec = specs.get(key)
      specs.delete(key)
      if (!spec) return
      const worker = workers[slotOf(spec.name)]
      if (worker?.loaded.delete(key) && worker.child.connected) worker.child.send({ t: 'unload', key } satisfies SupervisorMessage)
    },
    async stats() {
      const all = await Promise.all(workers.map(async (w) => {
        if (!w) return undefined
        const id = ++seq
        const text = await new Promise<string>((resolve, reject) => {
          w.calls.set(id, { resolve, reject })
          w.child.send({ t: 'stats', id } satisfies SupervisorMessage)
        })
        const { rss, heapUsed, external, isolates, invocations, hostCalls } = JSON.parse(text) as WorkerStats
        return { pid: w.pid, rss, heapUsed, external, isolates, invocations, hostCalls }
      }))
      return all.filter((s) => s !== undefined)
    },
    async stop() {
      stopping = true
      await Promise.all(workers.map(async (w) => {
        if (!w || w.child.exitCode !== null) return
        const exited = new Promise<void>((resolve) => w.child.once('exit', () => resolve()))
        w.child.disconnect()
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 2000)
        await exited
        clearTimeout(timer)
      }))
    },
  }
}

/** What a failed host call tells the guest: coded errors keep their message; anything else is logged, not leaked. */
function toGuestError(error: unknown, logger: Logger): ErrorDto {
  if (error instanceof IsletError) return { code: error.code, message: error.message }
  logger.error({ err: error }, 'a host call failed')
  return { code: 'ERR_COMPONENT_THREW', message: 'the host could not complete the call' }
}
