// The `executions` engine service: recorded pipeline runs. A recorded run gets its own AbortController (cancel and the
// engine's stop abort it), an observer that turns each step's start and end into a numbered event, and a row in the
// store; every event is written to the store, published on the bus (islet.pipeline.*, islet.step.*) and handed to the
// followers of that execution, in one synchronous step, so a follower that replays the store and then listens misses
// nothing and sees nothing twice. Unrecorded runs (every plain HTTP request) never reach this file.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import {
  isStepError, MAX_TIMER_MS, type AbortSignalLike, type ExecutionEvent, type ExecutionFilter, type ExecutionsService, type ExecutionStart,
  type ExecutionStatus, type ExecutionSummary, type Logger, type Pipeline, type PipelineResponse, type RunInput, type RunObserver,
} from '@islet/sdk'
import { codeOf, describeThrown, IsletError, isIsletError } from '../errors.ts'
import { publishEngineEvent, type EventBus } from '../events/bus.ts'
import { hasExecutionStore, openExecutionStore, type ExecutionStore } from './store.ts'

export interface RetentionOptions {
  /** Ended executions older than this are deleted. */
  maxAgeMs: number
  /** At most this many ended executions are kept (the newest). */
  maxCount: number
  /** How often the background pruning runs. */
  pruneEveryMs: number
  /** A response whose JSON is larger is not kept (its size is). */
  outputLimitBytes: number
}

export const DEFAULT_RETENTION: RetentionOptions = {
  maxAgeMs: 7 * 24 * 3600_000, maxCount: 10_000, pruneEveryMs: 60_000, outputLimitBytes: 64 * 1024,
}

/**
 * Step starts recorded per execution at most (each with its end): a loop of a million steps must not write two
 * million rows.
 */
export const MAX_STEP_EVENTS = 10_000

/**
 * The owners of the engines running in this process (more than one engine may share a data dir in one process):
 * an owner with this process's pid that is not one of them is a boot that ended.
 */
const liveOwners = new Set<string>()

/** How often a process running executions looks for cancellations another process asked for. */
const CANCEL_POLL_MS = 500
/** How often a follower of an execution another process runs reads its new events. */
const FOLLOW_POLL_MS = 250

export interface ExecutionsOptions {
  dataDir: string
  logger: Logger
  bus: EventBus
  /** A pipeline of the serving generation by name; undefined when the app declares none of that name. */
  pipeline(name: string): Promise<Pipeline> | undefined
  retention?: Partial<RetentionOptions>
  /** The clock of records and retention (tests move it). */
  now?: () => number
}

export interface Executions {
  readonly service: ExecutionsService
  /** At engine start: when a store exists, marks the executions of dead processes interrupted and starts pruning. */
  start(): void
  /** At engine stop, before modules stop: running background executions end `interrupted`, their signals aborted. */
  interrupt(): void
  /** After modules stopped: whatever still runs ends `interrupted`; the store closes. */
  close(): void
  /** Prunes what retention no longer keeps now, as the background pass does; how many went. */
  prune(): Promise<number>
  /** Executions running in this process (for status). */
  readonly running: number
}

interface Follower {
  event(event: ExecutionEvent): void
  end(): void
}

interface Live {
  readonly id: string
  readonly pipeline: string
  readonly startedAt: number
  readonly controller: AbortController
  /** Aborted by the caller's signal (a synchronous recorded run): ended by its request, not by interrupt(). */
  readonly attached: boolean
  readonly followers: Set<Follower>
  /** Steps started and not ended yet: name → their start times (a step of a loop may be open more than once). */
  readonly open: Map<string, number[]>
  seq: number
  stepEvents: number
  settled: boolean
}

type Ended = Exclude<ExecutionStatus, 'running'>

export function createExecutions(options: ExecutionsOptions): Executions {
  const { logger, bus, dataDir } = options
  const retention = { ...DEFAULT_RETENTION, ...options.retention }
  const now = options.now ?? Date.now
  const owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`
  liveOwners.add(owner)
  const lives = new Map<string, Live>()
  let store: ExecutionStore | undefined
  let pruner: ReturnType<typeof setInterval> | undefined
  let pruning: Promise<number> | undefined
  let canceller: ReturnType<typeof setInterval> | undefined
  const polls = new Set<ReturnType<typeof setInterval>>()
  let closed = false

  /** Opened on first use (an app that never records a run gets no file), or at start when one exists. */
  function open(): ExecutionStore {
    if (store) return store
    if (closed) throw new IsletError('ERR_ENGINE_STATE', 'the engine stopped: no execution can be started or read any more')
    const opened = store = openExecutionStore(dataDir)
    const orphans = opened.interruptOrphans(isDead, now())
    if (orphans.length > 0) logger.warn({ executions: orphans }, `${orphans.length} execution(s) of an engine process that stopped without ending them marked interrupted`)
    void prune()
    pruner = setInterval(() => void prune(), Math.min(retention.pruneEveryMs, MAX_TIMER_MS))
    pruner.unref()
    return opened
  }

  /** One pruning pass (at most one at a time): batches until what retention allows is all that is left. */
  function prune(): Promise<number> {
    pruning ??= pruneAll().finally(() => { pruning = undefined })
    return pruning
  }

  async function pruneAll(): Promise<number> {
    let pruned = 0
    try {
      // A high-rate app may outgrow a batch per pass: go on while batches come back full, letting the event loop
      // run between them so requests and running executions are not held up behind a long prune.
      for (let more = true; more && store;) {
        const batch = store.prune(now(), retention.maxAgeMs, retention.maxCount)
        pruned += batch.pruned
        more = batch.more
        if (more) await new Promise((resolve) => setImmediate(resolve))
      }
    } catch (error) {
      logger.warn({ err: error }, 'pruning old executions failed; the next pass tries again')
    }
    if (pruned > 0) logger.debug({ pruned }, 'old executions pruned')
    return pruned
  }

  /**
   * An owner is dead when it ran on this host under a pid no process has now, or under this process's pid with a
   * boot token no engine of this process holds: an earlier boot (in a container the engine is pid 1 every time).
   * Another host's we cannot tell.
   */
  function isDead(other: string): boolean {
    if (liveOwners.has(other)) return false
    const parts = other.split(':')
    parts.pop() // the boot token
    const pid = Number(parts.pop())
    if (parts.join(':') !== hostname() || !Number.isInteger(pid) || pid <= 0) return false
    if (pid === process.pid) return true
    try {
      process.kill(pid, 0)
      return false
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH'
    }
  }

  /** Records, publishes and hands out one event of a live execution. A store failure is logged: the run goes on. */
  function emit(live: Live, event: Omit<ExecutionEvent, 'seq' | 'execution' | 'pipeline'>): void {
    const full: ExecutionEvent = { seq: ++live.seq, execution: live.id, pipeline: live.pipeline, ...event }
    try {
      store!.appendEvent(full)
    } catch (error) {
      logger.warn({ err: error, execution: live.id }, 'an execution event could not be recorded')
    }
    publishEngineEvent(bus, full)
    for (const follower of live.followers) follower.event(full)
  }

  function observerOf(live: Live): RunObserver {
    return {
      // The cap counts starts only: a step whose start was recorded always gets its end, or it would look running
      // for ever (an outer step around a huge loop ends after the cap was reached).
      stepStarted({ step, at }) {
        if (live.settled || live.stepEvents >= MAX_STEP_EVENTS) return
        live.stepEvents++
        const open = live.open.get(step)
        if (open) open.push(at)
        else live.open.set(step, [at])
        emit(live, { type: 'step.started', at: new Date(at).toISOString(), step })
      },
      stepEnded({ step, startedAt, endedAt, durationMs, outputBytes, error }) {
        // Its start was not recorded (it came past the cap): neither is its end.
        const open = live.open.get(step)
        const recorded = open?.indexOf(startedAt) ?? -1
        if (live.settled || recorded < 0) return
        open!.splice(recorded, 1)
        emit(live, {
          type: error ? 'step.failed' : 'step.completed', at: new Date(endedAt).toISOString(), step, durationMs,
          ...(outputBytes !== undefined ? { outputBytes } : {}), ...(error ? { error: { code: error.code, message: error.message } } : {}),
        })
      },
    }
  }

  /** The response as kept: its status and body as JSON, unless larger than the cap. */
  function output(response: PipelineResponse): { output: string | null; outputBytes: number | null; truncated: boolean } {
    let text: string
    try {
      text = JSON.stringify({ status: response.status, body: response.body })
    } catch {
      return { output: null, outputBytes: null, truncated: true }
    }
    const bytes = Buffer.byteLength(text)
    return bytes > retention.outputLimitBytes ? { output: null, outputBytes: bytes, truncated: true } : { output: text, outputBytes: bytes, truncated: false }
  }

  /** How an abort reason ends an execution: cancel() → cancelled, the engine's stop → interrupted, its caller's signal → failed. */
  function endedBy(reason: unknown): Ended {
    if (isIsletError(reason, 'ERR_EXECUTION_CANCELLED')) return 'cancelled'
    if (isIsletError(reason, 'ERR_EXECUTION_INTERRUPTED')) return 'interrupted'
    return 'failed'
  }

  function start(target: string | Pipeline, run: RunInput, opts: { signal?: AbortSignalLike; logger?: Logger } = {}): ExecutionStart {
    const name = typeof target === 'string' ? target : target.name
    const pipeline = typeof target === 'string' ? options.pipeline(target) : Promise.resolve(target)
    if (!pipeline) {
      throw new IsletError('ERR_EXECUTION_PIPELINE_UNKNOWN', `no pipeline named '${name}' is declared, so no execution of it can start`,
        { details: { status: 404, pipeline: name } })
    }
    const opened = open()
    const id = `ex_${now().toString(36)}${randomBytes(8).toString('hex')}`
    const startedAt = now()
    opened.insert({ id, pipeline: name, trigger: run.trigger, runId: String(run.id).slice(0, 200), startedAt, inputBytes: jsonBytes(run.input), owner })
    const live: Live = {
      id, pipeline: name, startedAt, controller: new AbortController(), attached: opts.signal !== undefined,
      followers: new Set(), open: new Map(), seq: 0, stepEvents: 0, settled: false,
    }
    lives.set(id, live)
    watchCancelRequests()
    emit(live, { type: 'pipeline.started', at: new Date(startedAt).toISOString(), status: 'running' })

    let resolve!: (response: PipelineResponse) => void
    let reject!: (error: unknown) => void
    const done = new Promise<PipelineResponse>((res, rej) => { resolve = res; reject = rej })
    // Nobody may be waiting (an async route answered 202 long ago): a failed execution is recorded, not unhandled.
    done.catch(() => {})
    const external = opts.signal
    const forward = () => live.controller.abort(external!.reason)

    /** Ends the execution once, whichever comes first: the run's outcome or an abort (a step that ignores it is left behind). */
    function settle(status: Ended, response: PipelineResponse | undefined, error: unknown): void {
      if (live.settled) return
      live.settled = true
      lives.delete(id)
      external?.removeEventListener('abort', forward)
      const endedAt = now()
      const problem = error === undefined ? undefined
        : { code: isStepError(error) ? error.code : codeOf(error, 'ERR_STEP_FAILED'), message: describeThrown(error) }
      try {
        opened.finish(id, { status, endedAt, ...(response ? output(response) : { output: null, outputBytes: null, truncated: false }), ...(problem ? { error: problem } : {}) })
      } catch (failure) {
        logger.warn({ err: failure, execution: id }, 'the end of an execution could not be recorded')
      }
      // Steps still running when an abort ended the execution are recorded as ended by it: they were told (the
      // signal), and what they do after is not waited for.
      if (problem) {
        for (const [step, starts] of live.open) {
          for (const at of starts) emit(live, { type: 'step.failed', at: new Date(endedAt).toISOString(), step, durationMs: endedAt - at, error: problem })
        }
      }
      live.open.clear()
      emit(live, {
        type: status === 'completed' ? 'pipeline.completed' : 'pipeline.failed', at: new Date(endedAt).toISOString(), status,
        durationMs: endedAt - startedAt, ...(problem ? { error: problem } : {}),
      })
      for (const follower of live.followers) follower.end()
      live.followers.clear()
      if (response) resolve(response)
      else reject(error)
    }

    live.controller.signal.addEventListener('abort', () => {
      const reason: unknown = live.controller.signal.reason
      settle(endedBy(reason), undefined, reason)
    }, { once: true })
    if (external?.aborted) forward()
    else external?.addEventListener('abort', forward, { once: true })

    // No `pipeline`: the steps that log (log, retry) name their pipeline themselves, and a key said twice is noise.
    const runLogger = opts.logger ?? logger.child({ execution: id })
    pipeline
      .then((p) => p.run(run, { logger: runLogger, signal: live.controller.signal, observer: observerOf(live) }))
      .then((response) => settle('completed', response, undefined), (error: unknown) => settle('failed', undefined, error))
    return { id, done }
  }

  /** While this process runs executions, it looks for cancellations other processes recorded for them. */
  function watchCancelRequests(): void {
    if (canceller) return
    canceller = setInterval(() => {
      if (lives.size === 0) { clearInterval(canceller); canceller = undefined; return }
      try {
        for (const id of store?.cancelRequests(owner) ?? []) lives.get(id)?.controller.abort(cancelled(id))
      } catch (error) {
        logger.warn({ err: error }, 'reading cancellation requests failed')
      }
    }, CANCEL_POLL_MS)
    canceller.unref()
  }

  const cancelled = (id: string) => new IsletError('ERR_EXECUTION_CANCELLED', `execution ${id} was cancelled`, { details: { execution: id } })
  const unknown = (id: string) => new IsletError('ERR_EXECUTION_UNKNOWN', `no execution '${id.slice(0, 60)}' is recorded: it never existed, or retention pruned it`,
    { details: { status: 404, execution: id.slice(0, 60) } })

  function summary(id: string): ExecutionSummary & { owner: string } {
    const found = open().summary(id)
    if (!found) throw unknown(id)
    return found
  }
  const withoutOwner = ({ owner: _owner, ...rest }: ExecutionSummary & { owner: string }): ExecutionSummary => rest

  function follow(id: string, listener: (event: ExecutionEvent) => void, onEnd: () => void, after = 0): () => void {
    let last = after
    const deliver = (event: ExecutionEvent) => {
      if (event.seq <= last) return
      last = event.seq
      listener(event)
    }
    const live = lives.get(id)
    const found = live ? undefined : summary(id)
    // Replay and subscription happen in one synchronous step: no event of a live execution falls between them.
    for (const event of open().events(id, after)) deliver(event)
    if (live && !live.settled) {
      const follower: Follower = { event: deliver, end: onEnd }
      live.followers.add(follower)
      return () => { live.followers.delete(follower) }
    }
    if (live || found!.status !== 'running') {
      onEnd()
      return () => {}
    }
    // Another engine process runs it: its events reach this one only through the file.
    const poll = setInterval(() => {
      try {
        for (const event of open().events(id, last)) deliver(event)
        if (open().summary(id)?.status === 'running') return
        for (const event of open().events(id, last)) deliver(event)
      } catch (error) {
        logger.warn({ err: error, execution: id }, 'following an execution of another process failed')
      }
      stop()
      onEnd()
    }, FOLLOW_POLL_MS)
    polls.add(poll)
    const stop = () => { clearInterval(poll); polls.delete(poll) }
    return stop
  }

  const service: ExecutionsService = Object.freeze({
    start,
    get(id: string) {
      const found = open().get(id)
      if (!found) throw unknown(id)
      return found
    },
    list: (filter: ExecutionFilter = {}) => open().list({ ...filter, limit: Math.min(Math.max(filter.limit ?? 50, 1), 1000) }),
    events: (id: string, after = 0) => { summary(id); return open().events(id, after) },
    follow,
    cancel(id: string) {
      const live = lives.get(id)
      if (live) {
        live.controller.abort(cancelled(id))
        return withoutOwner(summary(id))
      }
      const found = summary(id)
      if (found.status !== 'running') {
        throw new IsletError('ERR_EXECUTION_ENDED', `execution ${id} already ended (${found.status}); only a running execution can be cancelled`,
          { details: { status: 409, execution: id, executionStatus: found.status } })
      }
      // Running in another engine process: it polls for the request and aborts its run.
      open().requestCancel(id)
      return withoutOwner(found)
    },
  })

  function interruptAll(which: (live: Live) => boolean): void {
    for (const live of [...lives.values()]) {
      if (!which(live)) continue
      live.controller.abort(new IsletError('ERR_EXECUTION_INTERRUPTED', `the engine stopped before execution ${live.id} ended`, { details: { execution: live.id } }))
    }
  }

  return {
    service,
    start() {
      if (hasExecutionStore(dataDir)) open()
    },
    interrupt: () => interruptAll((live) => !live.attached),
    close() {
      interruptAll(() => true)
      closed = true
      liveOwners.delete(owner)
      clearInterval(pruner)
      clearInterval(canceller)
      canceller = undefined
      for (const poll of polls) clearInterval(poll)
      polls.clear()
      store?.close()
      store = undefined
    },
    prune,
    get running() { return lives.size },
  }
}

/** UTF-8 bytes of `value`'s JSON; 0 when there is none or JSON cannot hold it. */
function jsonBytes(value: unknown): number {
  try {
    const text = JSON.stringify(value)
    return text === undefined ? 0 : Buffer.byteLength(text)
  } catch {
    return 0
  }
}
