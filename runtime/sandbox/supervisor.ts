// The sandbox supervisor (engine side): spawns and restarts worker processes, routes loads and invocations to
// them, answers guests' host calls through the caller's capability handler, and keeps a backup deadline per call
// in case a worker stops answering. A caller's abort signal cancels its call across the boundary.
// Blame: each worker tells, through its slice records (slice-record.ts), which invocation it is running guest code
// for; a worker stuck past that slice's deadline, or crashing, is charged to that invocation's component alone (one
// incident), which then runs in a worker of its own. Bystanders' lost calls fail with ERR_SANDBOX_WORKER_LOST (not a
// breach), and those that had not begun in the isolate are retried once on the replacement worker.
import type { ChildProcess } from 'node:child_process'
import type { AbortSignalLike, Logger } from '@islet/sdk'
import { IsletError, isIsletError, type ErrorCode } from '../errors.ts'
import type { ComponentMetaDto, ErrorDto, GrantedDto, GuestLogLineDto, HostOp, InvocationLimitsDto, SupervisorMessage, WorkerMessage } from './protocol.ts'
import type { SliceFile, SliceState } from './slice-record.ts'
import { CEILING_BASE_BYTES, ceilingForComponent, mb, watchMemory, type MemoryCeiling } from './worker-process.ts'
import { forkWorker, takeEarlyWorker } from './worker-spawn.ts'

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
  /** What the component is granted, for its worker to refuse the rest before IPC (absent: the engine decides all). */
  granted?: GrantedDto
  /** A worker of its own from the first load, as after a stall (deploy slots' code; ComponentDecl.dedicated). */
  dedicated?: boolean
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
  /**
   * `shared`: components are spread over `workers` processes, and one that stalls or crashes its worker is moved to
   * a worker of its own from then on. `dedicated`: every component has a worker of its own from the start.
   */
  isolation?: 'shared' | 'dedicated'
  /**
   * A worker stalled past a slice's deadline or crashed while running `key`'s code: one incident, charged to `key`
   * alone (details.incident; the culprit call, if still waiting, rejects with this same error). `startedAt` is when
   * the culprit call was sent (Date.now()), or the incident's time when no call is known.
   */
  onIncident?(key: string, error: IsletError, startedAt: number): void
  /**
   * Stop a worker this long after it last held no component generation (and ran nothing); the next load starts a
   * new one. For the examples worker, whose isolates are throwaway: between reloads it would hold a whole Node
   * process (~50-90 MB resident) for nothing. Unset: workers stay (the serving ones, whose components come back
   * lazily). `keepAlive()` suspends it (watch mode: a reload must not wait for a process to start).
   */
  idleStopMs?: number
}

export interface Sandbox {
  start(): Promise<void>
  load(spec: LoadSpec): Promise<ComponentMetaDto>
  /** Records a generation without loading it: its first invoke loads it into its worker (as after a worker restart). */
  register(spec: LoadSpec): void
  /** Runs `execute` (or `init`) with JSON text input; resolves with JSON text output; rejects with an IsletError. */
  invoke(key: string, kind: 'execute' | 'init', input: string, limits: InvocationLimitsDto, options?: InvokeOptions): Promise<string>
  unload(key: string): void
  /** Where component `name` runs: in one of the shared workers, or in a worker of its own (dedicated isolation, or since it stalled or crashed one). */
  placement(name: string): 'shared' | 'own'
  /** Per worker; `invocations` and `hostCalls` are what it has in flight (0 and 0 when idle). */
  stats(): Promise<WorkerStats[]>
  /** Keeps idle workers running (idleStopMs suspended) until the returned release is called. */
  keepAlive(): () => void
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
  /** The components placed in this worker (names), and whether it is a worker of their own. */
  components: string[]
  dedicated: boolean
  rss: number
  heapUsed: number
  external: number
  isolates: number
  /** An isolate made ahead for the next load is waiting (made once components are being reloaded: worker.ts warmBlank). */
  spare: boolean
  invocations: number
  hostCalls: number
}

interface Call {
  resolve(output: string): void
  reject(error: IsletError): void
  /**
   * Invocations only: when (performance.now()) its backup deadline passes, checked by the worker's one watch timer
   * (watchFor); undefined while an overdue check of it is under way, or for a stats request.
   */
  due?: number
  /** The call's timeout plus the grace, what each overdue extension grants. */
  budgetMs?: number
  extend?: (seq: number | undefined) => number | undefined
  /** Invocations only: which generation, and when it was sent (Date.now()). */
  key?: string
  sentAt?: number
}

/** Where a component's worker lives: one of the shared slots, or a worker of its own. */
interface Place {
  worker?: Worker
  /** The component this place is dedicated to; undefined for a shared slot. */
  owner?: string
  restarts: number[]
  closed?: boolean
}

/** Who a worker's death is charged to, decided when the supervisor kills it or from how it died. */
interface Verdict {
  key: string
  /** The culprit invocation (0: a load's module code). */
  id: number
  code: ErrorCode
  why: string
}

/** A guest's capability call being answered in the engine; aborted when the worker drops it or goes away. */
interface HostCall {
  invocation: number
  controller: AbortController
}

interface Worker {
  child: ChildProcess
  pid: number
  place: Place
  /** Its slice record: which invocation it runs guest code for right now, which ones began. */
  slices: SliceFile
  /** Set when the supervisor kills it as stuck: who that is charged to (undefined: no one). */
  killed?: { verdict?: Verdict; /** Why its calls were lost, when no one is charged. */ lost?: string }
  /** The last few KiB it wrote to stderr: tells V8's out-of-memory abort from other crashes. */
  stderrTail: string
  /** Resolves once its stderr closed: after its exit, what V8 wrote before aborting has been read. */
  stderrDone: Promise<void>
  ready: Promise<void>
  /** Set once `ready` resolved: calls to it then skip awaiting it (invoke's fast path). */
  up?: boolean
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
  /** Messages for it not written yet: sent together once this turn of the event loop ends (post). */
  outbox: SupervisorMessage[]
  /** Armed while it holds nothing (idleStopMs); set when it was stopped for that: its exit is no incident. */
  idleTimer?: NodeJS.Timeout
  idled?: boolean
  /** One timer for all its calls' backup deadlines, due at `watchAt` (the earliest it knows of; see sweep). */
  watch?: NodeJS.Timeout
  watchAt: number
}

export function sandboxError(dto: ErrorDto): IsletError {
  return new IsletError(dto.code as ErrorCode, dto.message, dto.details ? { details: dto.details } : {})
}

export function createSandbox(options: SandboxOptions): Sandbox {
  const { logger } = options
  const graceMs = options.graceMs ?? 1000
  const shared: Place[] = Array.from({ length: Math.max(1, options.workers) }, () => ({ restarts: [] }))
  /** Workers of their own: every component under `dedicated` isolation, and each one that once stalled or crashed one. */
  const own = new Map<string, Place>()
  const isolated = new Set<string>()
  const specs = new Map<string, LoadSpec>()
  let seq = 0
  let incidents = 0
  let stopping = false
  let keptAlive = 0

  /** Arms `worker`'s idle stop when it holds no generation and has nothing in flight (idleStopMs set, not kept alive). */
  function idleCheck(worker: Worker | undefined): void {
    if (!worker || options.idleStopMs === undefined || keptAlive > 0 || stopping || worker.idleTimer || !holdsNothing(worker)) return
    worker.idleTimer = setTimeout(() => {
      worker.idleTimer = undefined
      if (!holdsNothing(worker) || keptAlive > 0 || worker.killed) return
      worker.idled = true
      if (worker.place.worker === worker) worker.place.worker = undefined
      void stopWorker(worker)
    }, options.idleStopMs)
    worker.idleTimer.unref()
  }

  const holdsNothing = (worker: Worker) => worker.loaded.size === 0 && worker.loads.size === 0 && worker.calls.size === 0

  function busy(worker: Worker): void {
    clearTimeout(worker.idleTimer)
    worker.idleTimer = undefined
  }

  const slotOf = (name: string) => {
    let h = 0
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0
    return Math.abs(h) % shared.length
  }

  function placeOf(name: string): Place {
    if (options.isolation !== 'dedicated' && !isolated.has(name)) return shared[slotOf(name)]!
    let place = own.get(name)
    if (!place) own.set(name, place = { owner: name, restarts: [] })
    return place
  }

  const places = () => [...shared, ...own.values()]
  /** Where `name` runs, without making it a place of its own (placeOf does, under dedicated isolation). */
  const placedAt = (name: string) => (options.isolation !== 'dedicated' && !isolated.has(name) ? shared[slotOf(name)] : own.get(name))
  const nameOf = (key: string) => specs.get(key)?.name ?? key.replace(/@.*$/, '')

  function spawnWorker(place: Place): Worker {
    // The worker `islet run` forked before loading the engine (worker-spawn.ts), if there is one; else a new one.
    const test = options.testWorkerScript
    const forked = test === undefined ? takeEarlyWorker() ?? forkWorker() : forkWorker(test, [test])
    const { child, slices } = forked
    const pid = child.pid ?? 0
    // Ready once it said so and its file-size limit is set: no component is sent to it before both.
    const limited = forked.limited.then((failure) => {
      if (failure) logger.warn({ pid }, `sandbox worker runs without a file-size limit: ${failure}`)
    })
    const worker: Worker = {
      child, pid, ready: Promise.all([forked.said, limited]).then(() => { worker.up = true }), place, stderrTail: '',
      stderrDone: child.stderr ? new Promise((resolve) => { child.stderr!.once('close', resolve); child.stderr!.once('error', resolve) }) : Promise.resolve(),
      slices, placed: new Set(),
      memory: watchMemory(pid, CEILING_BASE_BYTES, ({ rssBytes, ceilingBytes }) => overCeiling(worker, rssBytes, ceilingBytes)),
      loaded: new Map(), loads: new Map(), calls: new Map(), hostCalls: new Map(), outbox: [], watchAt: Infinity,
    }
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk)
      worker.stderrTail = (worker.stderrTail + chunk.toString('latin1')).slice(-8192)
    })
    // What a worker sends is data from a process that may be taken over: a message the engine cannot handle (null,
    // `ids` that are not a list, log lines that are not an array) must end that worker, never throw in the engine.
    // The worker sends what it queued in one turn as one list (worker.ts send), in order.
    child.on('message', (msgs: WorkerMessage | WorkerMessage[]) => {
      for (const msg of Array.isArray(msgs) ? msgs : [msgs]) {
        try {
          onMessage(worker, msg)
        } catch (error) {
          refuseMalformed(worker, error)
        }
      }
    })
    child.once('exit', (code, signal) => onExit(worker, code, signal))
    // A send racing the channel's close fails with an 'error' event, which Node would throw in the engine without a
    // listener: the call it carried is settled (lost) when the worker exits.
    child.on('error', (error) => logger.warn({ pid, err: error }, 'sandbox worker channel error'))
    // A worker whose channel closed can no longer be told anything (a crashing one closes it just before its exit; a
    // taken-over one may close it and live on): new calls go to a new worker, and it is killed. Not retire(): a
    // crash's own exit status still decides the blame, and a dead process's status is not changed by a late kill.
    child.once('disconnect', () => {
      if (stopping || place.closed || worker.killed || worker.idled) return
      if (place.worker === worker) place.worker = undefined
      child.kill('SIGKILL')
    })
    place.worker = worker
    return worker
  }

  function onMessage(worker: Worker, msg: WorkerMessage): void {
    // A worker the supervisor killed is heard no more: what it sent before the signal landed (a result after a forged
    // host call, say) is not trusted, and its calls settle as lost when it exits.
    if (worker.killed) return
    if ((msg.t === 'host-call' || msg.t === 'log') && !worker.placed.has(msg.key)) return refuseForged(worker, msg)
    switch (msg.t) {
      case 'ready': return // forkWorker listens for it (worker.ready)
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
        const reply = (m: SupervisorMessage) => { if (worker.hostCalls.delete(msg.id)) post(worker, m) }
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
   * Queues `msg` for `worker`; everything queued in one turn of the event loop goes out as one write (a list), in
   * order, once the turn's callbacks ran. Under load, one pipe write per call (each waking the worker) was the largest
   * part of the engine's cost per sandboxed request; now the calls that arrive together leave together. The worker
   * runs no guest code in the engine, so nothing can hold the queue longer than the current turn.
   */
  function post(worker: Worker, msg: SupervisorMessage): void {
    if (worker.outbox.push(msg) === 1) setImmediate(flush, worker)
  }

  function flush(worker: Worker): void {
    const batch = worker.outbox
    if (batch.length === 0) return
    worker.outbox = []
    // A worker whose channel closed takes nothing more; its calls settle as lost when it exits.
    if (worker.child.connected) worker.child.send(batch.length === 1 ? batch[0]! : batch)
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
    if (worker.calls.size === 0) unwatch(worker)
    return call
  }

  /**
   * Backup deadlines: one timer per worker, not one per call (a timer set and cleared on every sandboxed request was
   * engine CPU for a check that almost never fires). It is due at the earliest deadline it was told of; when it fires,
   * every call past its own deadline gets its overdue check, and it is set again for the earliest still ahead.
   */
  function watchFor(worker: Worker, due: number): void {
    if (worker.watch && worker.watchAt <= due) return
    clearTimeout(worker.watch)
    worker.watchAt = due
    worker.watch = setTimeout(sweep, Math.max(1, Math.ceil(due - performance.now())), worker)
  }

  function unwatch(worker: Worker): void {
    clearTimeout(worker.watch)
    worker.watch = undefined
    worker.watchAt = Infinity
  }

  function sweep(worker: Worker): void {
    worker.watch = undefined
    worker.watchAt = Infinity
    const now = performance.now()
    let next = Infinity
    for (const [id, call] of worker.calls) {
      if (call.due === undefined) continue
      if (call.due > now) { next = Math.min(next, call.due); continue }
      // Its overdue check decides now: it sets a new deadline (rearm) or kills the worker.
      call.due = undefined
      const extend = call.extend ??= whileServing(call.budgetMs ?? graceMs)
      overdue(worker, () => worker.calls.get(id) === call, (ms) => { call.due = performance.now() + ms; watchFor(worker, call.due) }, extend)
    }
    if (next !== Infinity) watchFor(worker, next)
  }

  /** A crash is the running slice's when it is one V8 or the OS deals a process that misbehaved; SIGKILL/SIGTERM come from outside. */
  function crashVerdict(worker: Worker, running: SliceState['running'], code: number | null, signal: NodeJS.Signals | null): Verdict | undefined {
    const crashed = signal ? CRASH_SIGNALS.has(signal) : code !== null && CRASH_SIGNALS.has(`${code - 128}`)
    if (!running || !crashed) return undefined
    const oom = OUT_OF_MEMORY.test(worker.stderrTail)
    const name = nameOf(running.key)
    return {
      key: running.key, id: running.id, code: oom ? 'ERR_SANDBOX_MEMORY_LIMIT' : 'ERR_SANDBOX_CRASHED',
      why: oom ? `component '${name}' ran its sandbox worker out of memory (V8 aborted it)` : `component '${name}' crashed its sandbox worker (${signal ?? `exit code ${code}`})`,
    }
  }

  function onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const { place } = worker
    if (place.worker === worker) place.worker = undefined
    busy(worker)
    // Now, not after stderr drains: the pid may be reused meanwhile, and another process's RSS must not kill this worker's component.
    worker.memory.stop()
    // What V8 wrote to stderr before it aborted is read first: it tells an out-of-memory abort.
    const drained = Promise.race([worker.stderrDone, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())])
    void drained.then(() => afterExit(worker, code, signal))
  }

  function afterExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const { place } = worker
    const why = signal ? `signal ${signal}` : `exit code ${code}`
    // The record as the worker left it: who was running, which calls began.
    const state = worker.slices.read()
    worker.slices.close()
    const verdict = worker.killed ? worker.killed.verdict : crashVerdict(worker, state.running, code, signal)
    let charged: IsletError | undefined
    if (verdict && !stopping) {
      const incident = `s${process.pid}.${++incidents}`
      charged = new IsletError(verdict.code, verdict.why, { details: { incident } })
      const name = nameOf(verdict.key)
      // It cannot take others with it again: from now on its generations load into a worker of their own.
      if (!place.owner) isolated.add(name)
      const startedAt = worker.calls.get(verdict.id)?.sentAt ?? Date.now()
      logger.warn({ pid: worker.pid, component: name, code: verdict.code, incident, signal, exitCode: code },
        `${verdict.why}; charged to '${name}' alone${place.owner ? '' : ', which runs in a worker of its own from now on'}`)
      options.onIncident?.(verdict.key, charged, startedAt)
    }
    const lost = verdict
      ? `another component's call took down the sandbox worker running it (${why})`
      : worker.killed ? `${worker.killed.lost ?? 'the sandbox worker running it stopped answering and was restarted'} (${why})` : `the sandbox worker running it stopped (${why}), not because of a component`
    unwatch(worker)
    for (const [id, call] of worker.calls) {
      worker.calls.delete(id)
      if (charged && id === verdict!.id) { call.reject(charged); continue }
      const component = call.key ? nameOf(call.key) : undefined
      const error = new IsletError('ERR_SANDBOX_WORKER_LOST', `${component ? `component '${component}': ` : ''}the call was lost: ${lost}; it is not counted against ${component ? `'${component}'` : 'the component'}`)
      // Not begun in the isolate: none of its code ran, so running it again is safe.
      if (call.key && id > state.maxBegun) retryable.add(error)
      call.reject(error)
    }
    abortHostCalls(worker, [...worker.hostCalls.keys()])
    for (const [key, load] of worker.loads) {
      if (charged && verdict!.id === 0 && verdict!.key === key) load.reject(charged)
      else load.reject(new IsletError('ERR_SANDBOX_WORKER_LOST', `the sandbox worker stopped (${why}) while loading ${key}: ${lost}`))
    }
    if (stopping || place.closed || worker.idled) return
    logger.error({ pid: worker.pid, code, signal }, `sandbox worker stopped (${why}); its components come back on next use`)
    if (place.worker) return // already replaced (it was retired when it was killed)
    const now = Date.now()
    place.restarts.push(now)
    while (place.restarts.length > 0 && place.restarts[0]! < now - 10_000) place.restarts.shift()
    // A crash loop backs off instead of burning a core; components load lazily into the new worker anyway.
    if (place.restarts.length > 5) setTimeout(() => { if (!stopping && !place.worker && !place.closed) spawnWorker(place) }, 1000).unref()
    else spawnWorker(place)
  }

  /**
   * Kills a worker that stopped answering, charged to whatever slice its records say it is stuck in (or to no one).
   * Retired at once, not when its exit arrives: calls made meanwhile go to a new worker.
   */
  function killUnresponsive(worker: Worker, running: SliceState['running']): void {
    const name = running ? nameOf(running.key) : undefined
    logger.error({ pid: worker.pid, component: name }, `sandbox worker unresponsive past a deadline${name ? `, inside component '${name}'` : ''}; killing it`)
    retire(worker, running ? {
      verdict: {
        key: running.key, id: running.id, code: 'ERR_SANDBOX_TIMEOUT',
        why: running.id === 0 ? `loading component '${name}' did not finish within ${running.timeoutMs} ms and its worker did not answer; the worker was restarted`
          : `component '${name}' did not finish within its deadline and its worker did not answer (stuck in code V8 cannot interrupt); the worker was restarted`,
      },
    } : {})
  }

  /** Kills a worker, charged as `killed` says; retired at once, so calls made meanwhile go to a new worker. */
  function retire(worker: Worker, killed: NonNullable<Worker['killed']>): void {
    if (worker.killed) return
    worker.killed = killed
    if (worker.place.worker === worker) worker.place.worker = undefined
    worker.child.kill('SIGKILL')
  }

  /**
   * The worker's RSS passed its ceiling: memory the isolates' own limits did not count (an allocator bypass). Charged
   * to the component whose code is running, else to the owner of a worker of its own, else to no one: an idle shared
   * worker's memory cannot be told apart by component from outside.
   */
  function overCeiling(worker: Worker, rssBytes: number, ceilingBytes: number): void {
    const { running } = worker.slices.read()
    const owner = worker.place.owner
    const key = running?.key ?? (owner ? [...worker.placed].reverse().find((k) => nameOf(k) === owner) : undefined)
    const name = key ? nameOf(key) : undefined
    const why = `${name ? `component '${name}' took its` : 'the'} sandbox worker over its memory ceiling (${mb(rssBytes)} MB resident, ceiling ${mb(ceilingBytes)} MB); the worker was killed`
    logger.error({ pid: worker.pid, rssMb: mb(rssBytes), ceilingMb: mb(ceilingBytes), rssBytes, ceilingBytes, component: name, code: 'ERR_SANDBOX_MEMORY_LIMIT' }, why)
    retire(worker, key ? { verdict: { key, id: running?.id ?? -1, code: 'ERR_SANDBOX_MEMORY_LIMIT', why } } : { lost: 'the sandbox worker running it went over its memory ceiling and was killed' })
  }

  /**
   * A worker spoke for a component the engine never placed in it: only code outside the isolates can forge that, so
   * the worker is treated as taken over. Nothing is answered, no component is charged (the forger cannot be told
   * from its neighbours), and the worker is killed; its calls in flight are lost.
   */
  function refuseForged(worker: Worker, msg: Extract<WorkerMessage, { t: 'host-call' | 'log' }>): void {
    if (worker.killed) return // already refused and killed: one alarm per worker, however many it sent
    const key = String(msg.key).slice(0, 200)
    logger.error({ pid: worker.pid, key, message: msg.t, op: msg.t === 'host-call' ? String(msg.op).slice(0, 50) : undefined, placed: [...worker.placed], code: 'ERR_SANDBOX_WORKER_FORGED' },
      `ESCAPE ATTEMPT: sandbox worker pid ${worker.pid} sent a ${msg.t} for component '${key}', which was never placed in it; refused, killing the worker`)
    retire(worker, { lost: 'the sandbox worker running it was killed as compromised (it spoke for a component never placed in it)' })
  }

  /** A message from the worker failed to be handled: the worker is taken for compromised (or broken) and killed, no one charged. */
  function refuseMalformed(worker: Worker, error: unknown): void {
    if (worker.killed) return
    logger.error({ pid: worker.pid, err: error, code: 'ERR_SANDBOX_WORKER_FORGED' },
      `ESCAPE ATTEMPT: sandbox worker pid ${worker.pid} sent a message the engine cannot handle; killing the worker`)
    retire(worker, { lost: 'the sandbox worker running it was killed as compromised (it sent a malformed message)' })
  }

  /** Binds `key` to the worker (its host calls and logs may name it) and raises the worker's memory ceiling for it. */
  function place(worker: Worker, key: string): void {
    worker.placed.add(key)
    let bytes = CEILING_BASE_BYTES
    for (const hosted of new Set([...worker.loaded.keys(), key])) bytes += ceilingForComponent(specs.get(hosted)?.memoryMb ?? 0)
    worker.memory.raise(bytes)
  }

  /**
   * A call's backup deadline passed without an answer. The worker is stuck only if the slice it is running has
   * outlived its own timeout: a slice still within it (another component's long, legal call) is waited for. A worker
   * running no slice is turning its event loop: the call may have begun late (queued behind other calls' slices) and
   * be waiting on a host call within its own deadline, which the worker counts from when it began, pushed back by what
   * other components' slices held the worker since; it gets its whole timeout once more (`extend`), and again at each
   * later check that finds slices ran since the previous one, before the worker is taken for stuck.
   */
  function overdue(worker: Worker, pending: () => boolean, rearm: (ms: number) => void, extend: (seq: number | undefined) => number | undefined): void {
    // After a poll phase: an answer already in the pipe is read before judging.
    setImmediate(() => {
      if (!pending() || worker.killed || worker.child.exitCode !== null || worker.child.signalCode !== null) return
      const { running, seq } = worker.slices.read()
      const stuckAt = running ? running.startedAt + running.timeoutMs + graceMs : 0
      if (running && Date.now() < stuckAt) return rearm(stuckAt - Date.now() + 10)
      const more = running ? undefined : extend(seq)
      if (more !== undefined) return rearm(more)
      killUnresponsive(worker, running)
    })
  }

  /**
   * `extend` for overdue: `ms` the first time; then `ms` again only if the slice record moved since the previous
   * idle check (a slice began: the worker's event loop turns and serves, and enforces the call's deadline itself,
   * pushed back by at most what those slices held), else nothing. Between two idle checks with no slice, nothing
   * pushed the deadline back past the first check's time plus the call's timeout, so the second check is past it.
   */
  const whileServing = (ms: number) => {
    let first = true
    let seen: number | undefined
    return (seq: number | undefined) => {
      const again = first || (seq !== undefined && seen !== undefined && seq !== seen)
      first = false
      seen = seq
      return again ? ms : undefined
    }
  }

  async function workerFor(name: string): Promise<Worker> {
    // A call or load arriving after stop() starts no worker that nothing would ever stop.
    if (stopping) throw new IsletError('ERR_SANDBOX_WORKER_LOST', `component '${name}': the sandbox is stopping; the call was not run`)
    const place = placeOf(name)
    const worker = place.worker ?? spawnWorker(place)
    busy(worker)
    await worker.ready
    return worker
  }

  async function ensureLoaded(worker: Worker, key: string): Promise<ComponentMetaDto> {
    let loaded = worker.loaded.get(key)
    if (!loaded) {
      const spec = specs.get(key)
      if (!spec) throw new IsletError('ERR_COMPONENT_NOT_FOUND', `component generation ${key} is not loaded`)
      loaded = new Promise<ComponentMetaDto>((resolve, reject) => {
        // Backup deadline, as for invocations: module code stuck in a builtin V8 cannot interrupt (a huge fill()) ignores
        // the worker's own load timeout, and would hold the worker and every component on it.
        const extend = whileServing(spec.loadTimeoutMs + graceMs)
        const arm = (ms: number) => setTimeout(() => overdue(worker, () => worker.loads.has(key), (next) => { timer = arm(next) }, extend), ms)
        let timer = arm(spec.loadTimeoutMs + graceMs)
        const settle = <T>(f: (value: T) => void) => (value: T) => { clearTimeout(timer); f(value) }
        worker.loads.set(key, { resolve: settle(resolve), reject: settle(reject) })
        const { config, ...rest } = spec
        place(worker, key)
        post(worker, { t: 'load', ...rest, config: JSON.stringify(config ?? {}) })
      }).finally(() => worker.loads.delete(key))
      worker.loaded.set(key, loaded)
      const ok = loaded
      ok.then(() => { loadedOk.add(ok) }, () => {})
      loaded.catch(() => { worker.loaded.delete(key); idleCheck(worker) })
    }
    return loaded
  }

  const cancelled = (name: string, signal: AbortSignalLike) =>
    new IsletError('ERR_SANDBOX_CANCELLED', `component '${name}' was cancelled: its caller stopped waiting (request timed out or client gone)`, { cause: signal.reason })

  /**
   * Sends one invocation. The fast path (the component's worker is up and this generation loaded in it, as for every
   * call once an app serves) posts it in the caller's own turn: no async frames, no awaits on settled promises. Per
   * call that was two async functions and their microtask hops in the engine, on every sandboxed request.
   */
  function invokeOnce(key: string, kind: 'execute' | 'init', input: string, limits: InvocationLimitsDto, signal?: AbortSignalLike): Promise<string> {
    const spec = specs.get(key)
    const worker = spec && !stopping ? placeOf(spec.name).worker : undefined
    const loaded = worker?.up && !worker.killed ? worker.loaded.get(key) : undefined
    if (loaded && loadedOk.has(loaded)) return send(worker!, spec!.name, key, kind, input, limits, signal)
    return invokeAfterLoad(key, kind, input, limits, signal)
  }

  /** The slow path of invokeOnce: starts the worker or loads the generation into it first. */
  async function invokeAfterLoad(key: string, kind: 'execute' | 'init', input: string, limits: InvocationLimitsDto, signal?: AbortSignalLike): Promise<string> {
    const spec = specs.get(key)
    if (!spec) throw new IsletError('ERR_COMPONENT_NOT_FOUND', `component generation ${key} is not loaded`)
    const worker = await workerFor(spec.name)
    await ensureLoaded(worker, key)
    return send(worker, spec.name, key, kind, input, limits, signal)
  }

  function send(worker: Worker, name: string, key: string, kind: 'execute' | 'init', input: string, limits: InvocationLimitsDto, signal?: AbortSignalLike): Promise<string> {
    if (signal?.aborted) return Promise.reject(cancelled(name, signal))
    const id = ++seq
    return new Promise<string>((resolve, reject) => {
      const stopListening = () => signal?.removeEventListener('abort', cancel)
      const call: Call = { resolve: (v) => { stopListening(); resolve(v) }, reject: (e) => { stopListening(); reject(e) }, key, sentAt: Date.now() }
      // First wins: a result already received has settled the call and removed this listener. Otherwise the caller
      // is released now, and the call's entry (and backup timer) stays until the worker acknowledges the cancel with
      // its answer, which is then ignored: a worker that never answers is still found and killed.
      function cancel(): void {
        if (worker.calls.get(id) !== call) return
        const release = call.reject
        call.resolve = call.reject = () => {}
        release(cancelled(name, signal!))
        abortHostCalls(worker, [...worker.hostCalls].filter(([, h]) => h.invocation === id).map(([hostId]) => hostId))
        post(worker, { t: 'cancel', id })
      }
      signal?.addEventListener('abort', cancel, { once: true })
      // Backup deadline: the worker enforces the real one; if it is stuck, it is killed and the slice it is stuck in
      // is charged (overdue), whichever call's deadline noticed it.
      call.budgetMs = limits.timeoutMs + graceMs
      call.due = performance.now() + call.budgetMs
      worker.calls.set(id, call)
      watchFor(worker, call.due)
      post(worker, { t: 'invoke', id, key, kind, input, limits })
    })
  }

  function stopWorker(w: Worker): Promise<void> {
    if (w.child.exitCode !== null || w.child.signalCode !== null) return Promise.resolve()
    const exited = new Promise<void>((resolve) => w.child.once('exit', () => resolve()))
    flush(w)
    if (w.child.connected) w.child.disconnect()
    const timer = setTimeout(() => w.child.kill('SIGKILL'), 2000)
    return exited.finally(() => clearTimeout(timer))
  }

  return {
    async start() {
      // Under dedicated isolation each component's worker starts with its first load; no shared one is needed.
      if (options.isolation === 'dedicated') return
      await Promise.all(shared.map((place) => (place.worker ?? spawnWorker(place)).ready))
      shared.forEach((place) => idleCheck(place.worker))
    },
    async load(spec) {
      if (spec.dedicated) isolated.add(spec.name)
      specs.set(spec.key, spec)
      try {
        for (let attempt = 0; ; attempt++) {
          const worker = await workerFor(spec.name)
          worker.loaded.delete(spec.key)
          try {
            return await ensureLoaded(worker, spec.key)
          } catch (error) {
            // Another component took the worker down meanwhile: load into the replacement, once.
            if (attempt === 0 && isIsletError(error, 'ERR_SANDBOX_WORKER_LOST')) continue
            throw error
          }
        }
      } catch (error) {
        specs.delete(spec.key)
        throw error
      }
    },
    register(spec) {
      if (spec.dedicated) isolated.add(spec.name)
      specs.set(spec.key, spec)
    },
    invoke(key, kind, input, limits, { signal } = {}) {
      // Already aborted: nothing is sent, no worker is started for it.
      if (signal?.aborted) return Promise.reject(cancelled(specs.get(key)?.name ?? key, signal))
      return invokeOnce(key, kind, input, limits, signal).catch((error: unknown) => {
        // The worker restarted between load and invoke: load into the new one and try once more. A call another
        // component's crash lost before it began in the isolate is sent once more, to the replacement worker.
        if (isIsletError(error, 'ERR_SANDBOX_NOT_LOADED') || (error instanceof IsletError && retryable.has(error))) {
          return invokeOnce(key, kind, input, limits, signal)
        }
        throw error
      })
    },
    unload(key) {
      const spec = specs.get(key)
      specs.delete(key)
      if (!spec) return void shared.forEach((place) => idleCheck(place.worker))
      for (const place of places()) {
        const worker = place.worker
        if (worker?.loaded.delete(key)) post(worker, { t: 'unload', key })
        idleCheck(worker)
      }
      // A worker of its own whose component is gone (no generation left) goes too.
      const mine = own.get(spec.name)
      if (mine && ![...specs.values()].some((s) => s.name === spec.name)) {
        own.delete(spec.name)
        mine.closed = true
        if (mine.worker) void stopWorker(mine.worker)
      }
    },
    placement: (name) => (options.isolation === 'dedicated' || isolated.has(name) ? 'own' : 'shared'),
    async stats() {
      const all = await Promise.all(places().map(async (place) => {
        const w = place.worker
        if (!w) return undefined
        const id = ++seq
        const text = await new Promise<string>((resolve, reject) => {
          w.calls.set(id, { resolve, reject })
          post(w, { t: 'stats', id })
        }).catch(() => undefined)
        if (text === undefined) return undefined
        const { rss, heapUsed, external, isolates, spare, invocations, hostCalls } = JSON.parse(text) as WorkerStats
        // Placed here: loaded, or registered to load with its first call (a component without init, at start).
        const components = [...new Set([...specs.values()].map((spec) => spec.name))].filter((name) => placedAt(name) === place).sort()
        return { pid: w.pid, components, dedicated: place.owner !== undefined, rss, heapUsed, external, isolates, spare, invocations, hostCalls }
      }))
      return all.filter((s) => s !== undefined)
    },
    keepAlive() {
      keptAlive++
      for (const place of places()) if (place.worker) busy(place.worker)
      let released = false
      return () => {
        if (released) return
        released = true
        keptAlive--
        for (const place of places()) idleCheck(place.worker)
      }
    },
    async stop() {
      stopping = true
      await Promise.all(places().map((place) => (place.worker ? stopWorker(place.worker) : undefined)))
    },
  }
}

/** Signals (or exit codes 128+n) a process gets for its own fault: V8's abort on out-of-memory, a bad access. */
const CRASH_SIGNALS = new Set<string>(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGTRAP', 'SIGFPE', '6', '11', '7', '4', '5', '8'])
/** What V8 writes to stderr before aborting a process that ran out of memory. */
const OUT_OF_MEMORY = /is_heap_oom|out of memory|Reached heap limit|Allocation failed|invalid size error/i
/** Loads that succeeded (worker.loaded's promises): invoke's fast path sends to their generation without awaiting. */
const loadedOk = new WeakSet<Promise<ComponentMetaDto>>()
/** Lost calls that never began in the isolate: safe to send once more. */
const retryable = new WeakSet<IsletError>()

/** What a failed host call tells the guest: coded errors keep their message; anything else is logged, not leaked. */
function toGuestError(error: unknown, logger: Logger): ErrorDto {
  if (error instanceof IsletError) return { code: error.code, message: error.message }
  logger.error({ err: error }, 'a host call failed')
  return { code: 'ERR_COMPONENT_THREW', message: 'the host could not complete the call' }
}
