// Sandbox worker process (spawned by the supervisor with --no-node-snapshot): hosts the isolates of the components
// assigned to it and runs invocations in time slices. Never runs in the engine's process: some isolate allocations
// can abort the whole process, and then only this worker dies.
import type { ErrorDto, InvocationLimitsDto, SupervisorMessage, WorkerMessage } from './protocol.ts'
import { argumentsJsonLimit, grantedCaps, SANDBOX_ERRORS } from './protocol.ts'
import { classify, createBlank, createIsolate, guestFrames, LoadError, type BlankIsolate, type LiveIsolate, type SlotSpec } from './isolate-slot.ts'
import { checkConversions, describeRefusal, formatPath, refusedOutput, type PathSegment } from './output-values.ts'
import { CLIENT_DETAILS_BYTES } from './guest-bootstrap.ts'
import { createLogGate, type LogGate } from './capabilities/log/log-gate.ts'
import type { GuestCheck } from './guest-schemas.ts'
import { openSliceRecorder } from './slice-record.ts'
import { createTimerQueue } from './globals/timers.ts'
import { GLOBAL_LIMITS, runGlobalCall } from './globals/worker-calls.ts'

/** A component loaded in this worker: its spec, its isolate (re-created after a breach) and its invocations. */
interface Resident {
  spec: SlotSpec
  live?: LiveIsolate
  hasInit: boolean
  /** Set after the isolate was re-created: init must run again before the next execute. */
  needsInit: boolean
  /** Invocations waiting for that init. */
  waiting?: (() => void)[]
  invocations: Set<Invocation>
  /** The invocation whose slice is running in the isolate right now (guest code only ever runs inside slices). */
  running?: Invocation
  /** While its module code runs (a load): when it began and its URL/crypto worker calls, bounded like an invocation's. */
  loading?: { started: number; globalCalls: number }
  log: LogGate
}

interface Invocation {
  id: number
  /** The supervisor's id this work is done for: its own, or for an init re-run before an execute, that execute's. */
  origin: number
  kind: 'execute' | 'init'
  slot: Resident
  limits: InvocationLimitsDto
  /** Its own deadline, before what other components held the worker since it began (deadlineOf). */
  deadline: number
  /** heldTotal and its component's held time when it began. */
  heldAtBegin: { total: number; own: number }
  cpuMs: number
  hostCalls: number
  /** Worker-side calls of the web globals (URL, crypto) so far: their own count, not the capability `hostCalls`. */
  globalCalls: number
  /** Set when a worker-side call was refused for a spent budget: the invocation ends as that breach, whatever it returns. */
  spent?: 'hostCalls' | 'cpu' | 'timeout'
  done(ok: boolean, value: string | ErrorDto, cpuMs: number): void
}

const slots = new Map<string, Resident>()
const invocations = new Map<number, Invocation>()
/** Worker-wide host call ids → the guest's own call id and its slot. */
const hostCalls = new Map<number, { slot: Resident; guestId: number; invocation: number }>()
/** Executes waiting for their isolate's init, not begun yet: a cancel answers them from here. */
const queued = new Map<number, () => void>()
let hostCallSeq = 0
let internalSeq = 0
let incidentSeq = 0
/** Tells the supervisor which invocation each slice runs for, before it runs (slice-record.ts). */
const recorder = openSliceRecorder()

/**
 * Wall time each component (by name: all its generations) held the worker's event loop with its slices, module code
 * and schema checks, and all of them together. While one component's code runs, no other invocation's timer or host
 * result is handled, so that time is not a bystander's: an invocation's deadline is pushed back by what *other*
 * components held since it began (never by its own or its siblings' time, so no component can extend its own).
 */
const held = new Map<string, number>()
let heldTotal = 0
let holding = false

/** Runs `work` for `slot`'s component and counts its time as held; nested holds count once, for the outermost. */
function hold<T>(slot: Resident, work: () => T): T {
  if (holding) return work()
  // What other components' work queued for the engine leaves before this component's code can hold the worker.
  if (outbox.length > 0 && outboxOf !== slot.spec.name) flush()
  holding = true
  const started = performance.now()
  try {
    return work()
  } finally {
    const ms = performance.now() - started
    holding = false
    heldTotal += ms
    held.set(slot.spec.name, (held.get(slot.spec.name) ?? 0) + ms)
  }
}

/** When `inv` breaches its timeout: its own deadline plus what other components held the worker since it began. */
function deadlineOf(inv: Invocation): number {
  const own = (held.get(inv.slot.spec.name) ?? 0) - inv.heldAtBegin.own
  return inv.deadline + Math.max(0, heldTotal - inv.heldAtBegin.total - own)
}

/**
 * Once the engine has disconnected (it stopped), there is no one to tell anything: a message is dropped, not thrown
 * as an unhandled EPIPE that would print this process's stack on the engine's terminal. The callback takes the error
 * of a write racing the disconnect (the channel closed, its 'disconnect' event not yet delivered).
 */
const write = (message: WorkerMessage | WorkerMessage[]): void => {
  if (process.connected) process.send!(message, undefined, undefined, () => {})
}

/**
 * Messages for the engine not written yet, and the component whose work queued them all (null: another's too, or
 * none in particular). They go as one write (a list) once this turn of the event loop ends, or before code of another
 * component runs (hold): a component's results wait only behind its own slices, never behind a neighbour's. One
 * write per result, each waking the engine, was a large part of a call's cost under load.
 */
let outbox: WorkerMessage[] = []
let outboxOf: string | null = null

/** Queues `message`, sent on `component`'s behalf (undefined: no component's, it waits for no guest code). */
function send(message: WorkerMessage, component?: string): void {
  if (outbox.length === 0) {
    setImmediate(flush)
    outboxOf = component ?? null
  } else if (outboxOf !== component) outboxOf = null
  outbox.push(message)
}

function flush(): void {
  const batch = outbox
  if (batch.length === 0) return
  outbox = []
  write(batch.length === 1 ? batch[0]! : batch)
}

/** Sends `message` at once, after what is queued (it answers the engine's load, stats, or says the worker is ready). */
function sendNow(message: WorkerMessage): void {
  flush()
  write(message)
}

function breachError(kind: keyof typeof SANDBOX_ERRORS, slot: Resident, inv?: Invocation): ErrorDto {
  const { name, memoryMb } = slot.spec
  const message = {
    timeout: `component '${name}' did not finish within ${inv?.limits.timeoutMs} ms`,
    cpu: `component '${name}' used more than ${inv?.limits.cpuMs} ms of CPU`,
    memory: `component '${name}' exceeded its memory limit of ${memoryMb} MB`,
    output: `component '${name}' returned more than ${inv?.limits.outputBytes} bytes of output`,
    hostCalls: inv !== undefined && inv.globalCalls > GLOBAL_LIMITS.callsPerInvocation
      ? `component '${name}' made more than ${GLOBAL_LIMITS.callsPerInvocation} URL/crypto calls (web globals answered by the worker) in one invocation`
      : `component '${name}' made more than ${inv?.limits.hostCalls} host calls in one invocation`,
    crashed: `component '${name}' was reset because another of its invocations breached a limit`,
    cancelled: `component '${name}' was cancelled: its caller stopped waiting (request timed out or client gone)`,
    threw: '', denied: '', load: '',
  }[kind]
  return { code: SANDBOX_ERRORS[kind], message }
}

/**
 * Ends the invocation that breached, and resets the isolate: every other invocation on it fails as crashed. All of
 * them carry one incident id (details.incident): the host counts one breach per incident, not per failed call.
 */
function breach(slot: Resident, inv: Invocation | undefined, kind: keyof typeof SANDBOX_ERRORS): void {
  const details = { incident: `${process.pid}.${++incidentSeq}` }
  if (inv && invocations.has(inv.id)) finish(inv, false, { ...breachError(kind, slot, inv), details })
  reset(slot, { ...breachError('crashed', slot), details })
}

function reset(slot: Resident, error: ErrorDto): void {
  if (slot.live && !slot.live.isolate.isDisposed) slot.live.isolate.dispose()
  slot.live = undefined
  slot.needsInit = slot.hasInit
  for (const other of [...slot.invocations]) finish(other, false, error)
  dropHostCalls((call) => call.slot === slot)
  const waiting = slot.waiting
  slot.waiting = undefined
  waiting?.forEach((resume) => resume())
}

/** Forgets host calls whose answer nobody will take any more, and has the engine abort them (a fetch in flight). */
function dropHostCalls(which: (call: { slot: Resident; invocation: number }) => boolean): void {
  const ids: number[] = []
  for (const [id, call] of hostCalls) if (which(call)) { hostCalls.delete(id); ids.push(id) }
  if (ids.length > 0) send({ t: 'host-cancel', ids })
}

/**
 * The caller gave up on invocation `id`. It ends now as cancelled (unless its answer is already on the way: then
 * nothing is found here, and the supervisor ignores that answer), its host calls are aborted in the engine, and
 * inside the isolate they are forgotten unanswered: the guest's await chain is never resumed, so none of its code
 * runs again, and what nothing refers to any more is garbage. A slice running when the cancel arrives (a CPU loop) is
 * not interrupted: the worker reads this message once that slice ends, by its own deadline.
 */
function cancel(id: number): void {
  const waiting = queued.get(id)
  if (waiting) return waiting()
  const inv = invocations.get(id)
  if (!inv) return
  const { slot } = inv
  const error = breachError('cancelled', slot, inv)
  dropHostCalls((call) => call.invocation === id)
  finish(inv, false, error)
  // Bootstrap code only (it forgets the invocation's pending calls): no guest code runs for a cancelled invocation.
  slice(slot, inv, (live, timeout) => live.cancel.applySync(undefined, [id], { arguments: { copy: true }, timeout }))
}

function finish(inv: Invocation, ok: boolean, value: string | ErrorDto): void {
  if (!invocations.delete(inv.id)) return
  timers.end(inv)
  inv.slot.invocations.delete(inv)
  // Its log lines go before its result: a caller that stops after the last result (islet component test) gets them all.
  inv.slot.log.flush()
  inv.done(ok, value, inv.cpuMs)
}

/**
 * Calls into the isolate synchronously with a timeout of what is left of the invocation's wall time and CPU budget.
 * The isolate only ever runs inside these calls, so summing their CPU time is the invocation's CPU use.
 */
function slice(slot: Resident, inv: Invocation, call: (live: LiveIsolate, timeout: number) => void): void {
  const live = slot.live
  if (!live) return
  const wallLeft = deadlineOf(inv) - performance.now()
  const cpuLeft = inv.limits.cpuMs - inv.cpuMs
  const timeout = Math.max(1, Math.ceil(Math.min(wallLeft, cpuLeft)))
  const before = live.isolate.cpuTime
  // Restored, not cleared: an init that finishes inside its slice starts the executes waiting for it, nested.
  const outer = slot.running
  const recorded = recorder.begin(inv.origin, timeout, slot.spec.key)
  try {
    slot.running = inv
    hold(slot, () => call(live, timeout))
  } catch (error) {
    slot.running = outer
    recorder.restore(recorded)
    const kind = classify(live.isolate, error, wallLeft <= cpuLeft)
    if (kind) return breach(slot, inv, kind)
    if (invocations.has(inv.id)) finish(inv, false, { code: SANDBOX_ERRORS.threw, message: 'the component failed inside the sandbox' })
    return
  }
  slot.running = outer
  recorder.restore(recorded)
  if (live.isolate.isDisposed) return
  inv.cpuMs += Number(live.isolate.cpuTime - before) / 1e6
  if (inv.cpuMs > inv.limits.cpuMs && invocations.has(inv.id)) breach(slot, inv, 'cpu')
}


/**
 * Work a slice left for after it (an output check), run in order once this turn's slices are done: one immediate for
 * all of them, not one per call.
 */
let afterSlices: (() => void)[] = []

function afterSlice(work: () => void): void {
  if (afterSlices.length === 0) setImmediate(runAfterSlices)
  afterSlices.push(work)
}

function runAfterSlices(): void {
  const list = afterSlices
  afterSlices = []
  for (const work of list) work()
}

/**
 * Guest timers (globals/timers.ts): all of them in one queue with one Node timer; each fires as a slice of the
 * invocation that armed it, through the bootstrap's `deliver` (the timer's id is a pending entry there).
 */
const timers = createTimerQueue<Invocation>((inv, tid) => {
  if (!invocations.has(inv.id)) return
  slice(inv.slot, inv, (live, timeout) => live.deliver.applySync(undefined, [tid, true, 'null'], { timeout }))
})

/** A guest's setTimeout: armed for a live invocation of this component, or the refusal the guest throws. */
function armTimer(slot: Resident, invocation: unknown, tid: unknown, delay: unknown): string | undefined {
  const inv = invocations.get(invocation as number)
  if (!inv || inv.slot !== slot) return 'g:this invocation has already finished; timers are per invocation'
  if (typeof tid !== 'number' || typeof delay !== 'number' || !(delay >= 0)) return 'g:not a valid timer'
  return timers.arm(inv, tid, delay, deadlineOf(inv), inv.limits.timeoutMs)
}

/** The guest aborted its host call `guestId` (an AbortSignal): forgotten here, and the engine aborts it (a fetch). */
function abortHostCall(slot: Resident, guestId: unknown): void {
  for (const [id, call] of hostCalls) {
    if (call.slot === slot && call.guestId === guestId) {
      hostCalls.delete(id)
      return send({ t: 'host-cancel', ids: [id] })
    }
  }
}

/**
 * The host reference each guest holds: runs synchronously inside a slice, so it never calls back into the isolate.
 * Only a timer's arming answers the guest (its refusal, a string); everything else returns nothing.
 */
function hostCallback(slot: Resident) {
  return (kind: string, a: unknown, b: unknown, c: unknown, d: unknown): string | void => {
    if (kind === 'global') return globalCall(slot, a, b, c, d)
    if (kind === 'log') return slot.log.write(a, b, c)
    if (kind === 'timer') return armTimer(slot, a, b, c)
    if (kind === 'timer-clear') {
      const inv = invocations.get(a as number)
      if (inv && inv.slot === slot && typeof b === 'number') timers.clear(inv, b)
      return
    }
    if (kind === 'abort') return abortHostCall(slot, a)
    const inv = invocations.get(a as number)
    if (kind === 'done') {
      if (!inv || inv.spent !== undefined) return
      if (b === 'ok') {
        const output = c as string
        // The guest serialiser already stopped at the cap; this re-check is the host's own, and cheap.
        if (Buffer.byteLength(output) > inv.limits.outputBytes) return void setImmediate(() => finish(inv, false, breachError('output', slot, inv)))
        const live = slot.live
        // init has no output to check (its result is dropped in the isolate: 'null' arrives).
        const validate = inv.kind === 'execute' ? live?.validateOutput : undefined
        const conversions = d as string
        if (!validate && conversions === '[]') return finish(inv, true, output)
        // Checked after the slice returns, never inside it: ajv time must not count as (or be cut by) the
        // isolate's timeout. The check has a deadline of its own (guest-schemas.ts), well inside the backup deadline.
        // No slice record for it: the check has a deadline of its own and cannot stall the worker, and a record
        // write per check was a measurable part of every call's cost.
        return void afterSlice(() => hold(slot, () => {
          if (!invocations.has(inv.id)) return
          const refused = conversions === '[]' ? undefined : checkConversions(slot.spec.name, live?.outputSchema, conversions)
          if (refused) return finish(inv, false, refused)
          const checked = validate?.check(JSON.parse(output)) ?? { valid: true }
          if (checked.valid) return finish(inv, true, output)
          // Its own output against its own schema: too costly to check is the component's failure (never a stall).
          if (checked.costly) return finish(inv, false, { code: 'ERR_COMPONENT_OUTPUT_INVALID', message: `component '${slot.spec.name}' returned output too costly to check against its output schema: ${checked.costly}` })
          finish(inv, false, { code: 'ERR_COMPONENT_OUTPUT_INVALID', message: `component '${slot.spec.name}' returned output that does not match its output schema`, details: { issues: checked.issues } })
        }))
      }
      if (b === 'output') return finish(inv, false, breachError('output', slot, inv))
      if (b === 'invalid') {
        const [found, segments] = JSON.parse(c as string) as [string, PathSegment[]]
        return finish(inv, false, refusedOutput(slot.spec.name, found, segments))
      }
      return finish(inv, false, thrown(slot.spec.name, c as string))
    }
    if (kind !== 'call') return
    // A ctx kept from a finished invocation is refused, and the refusal is delivered (and counted) as part of the
    // invocation whose code made the call: the one running now. Answered as its own, it would never arrive.
    const owner = inv ?? slot.running
    if (!owner) return
    const id = ++hostCallSeq
    hostCalls.set(id, { slot, guestId: b as number, invocation: owner.id })
    if (++owner.hostCalls > owner.limits.hostCalls) return void setImmediate(() => { if (invocations.has(owner.id)) breach(slot, owner, 'hostCalls') })
    if (!inv) return void setImmediate(() => answer(id, false, { code: SANDBOX_ERRORS.denied, message: 'this invocation has already finished; capabilities are per invocation' }))
    const op = String(c)
    // The isolate already refused ungranted operations and any argument over its cap (guest-bootstrap.ts `call`,
    // which holds the only host reference); this is the worker's own check of the whole text, with a fetch body held
    // to the grant, before the engine has to receive and parse it.
    const caps = grantedCaps(op, slot.spec.granted)
    if (typeof d !== 'string' || d.length > argumentsJsonLimit(op, caps.length + 4, caps)) {
      const message = `ctx.${op.slice(0, 60)}: its arguments are over their size caps; nothing was sent`
      return void setImmediate(() => answer(id, false, { code: 'ERR_CAPABILITY_ARGUMENT_TOO_LARGE', message }))
    }
    send({ t: 'host-call', id, invocation: inv.id, key: slot.spec.key, op: c as never, args: d }, slot.spec.name)
  }
}

/**
 * A web global's synchronous call (globals/worker-calls.ts), made inside a slice of the invocation running now (or
 * while the module loads: then the load deadline bounds it). Its time is charged to that invocation's CPU budget
 * here, because isolated-vm counts none of a host callback as the isolate's CPU and never interrupts one: without
 * this, a loop of 16 MiB digests would hold the worker far past every limit. Past the budget, the deadline or the
 * count, the call is refused with a code the guest keeps refusing locally from then on (guest `workerCall`), and the
 * invocation breaches (the CPU check at the slice's end, the deadline sweep, or here for the count).
 */
function globalCall(slot: Resident, op: unknown, a: unknown, b: unknown, c: unknown): string {
  const inv = slot.running
  if (inv !== undefined && invocations.has(inv.id)) {
    const kind: 'hostCalls' | 'cpu' | 'timeout' | undefined = ++inv.globalCalls > GLOBAL_LIMITS.callsPerInvocation ? 'hostCalls'
      : inv.cpuMs > inv.limits.cpuMs ? 'cpu' : performance.now() > deadlineOf(inv) ? 'timeout' : undefined
    if (kind !== undefined) {
      inv.spent = kind
      // The guest may catch the refusal, or finish with it first: either way this isolate, which now refuses every
      // worker call, is reset once the slice is over (unless a breach at the slice's end already did).
      const live = slot.live
      setImmediate(() => { if (slot.live === live) breach(slot, invocations.has(inv.id) ? inv : undefined, kind) })
      return `2${SANDBOX_ERRORS[kind]}\n${breachError(kind, slot, inv).message}`
    }
  }
  const loading = inv === undefined ? slot.loading : undefined
  if (loading !== undefined) {
    // Module code: the load deadline and the same count bound it (isolated-vm's load timeout does not see this time).
    if (++loading.globalCalls > GLOBAL_LIMITS.callsPerInvocation) {
      return `2${SANDBOX_ERRORS.hostCalls}\ncomponent '${slot.spec.name}' made more than ${GLOBAL_LIMITS.callsPerInvocation} URL/crypto calls while loading`
    }
    if (performance.now() - loading.started > slot.spec.loadTimeoutMs) {
      return `2${SANDBOX_ERRORS.timeout}\nloading component '${slot.spec.name}' took longer than ${slot.spec.loadTimeoutMs} ms`
    }
  }
  const started = performance.now()
  const result = runGlobalCall(op, a, b, c)
  if (inv !== undefined) inv.cpuMs += performance.now() - started
  return result
}

/**
 * What the guest threw, as it crosses to the engine: a host error it rethrew keeps its code; otherwise
 * ERR_COMPONENT_THREW with the guest frames (details.frames, which the engine maps to source and removes) and, for a
 * StepError, what it asked to answer (details.client, which the engine accepts or refuses: client-error.ts).
 */
function thrown(name: string, json: string): ErrorDto {
  const t = JSON.parse(json) as { message: string; code?: string; stack?: string; status?: number; clientCode?: string; details?: string; detailsRefused?: string }
  const details: Record<string, unknown> = {}
  const frames = guestFrames(t.stack, name)
  if (frames.length > 0) details.frames = frames
  if (t.status !== undefined) {
    details.client = {
      status: t.status, code: t.clientCode,
      ...(t.details !== undefined ? { details: JSON.parse(t.details) as unknown } : {}),
      ...(t.detailsRefused !== undefined ? { detailsRefused: describeDetailsRefusal(t.detailsRefused) } : {}),
    }
  }
  return { code: t.code ?? SANDBOX_ERRORS.threw, message: t.message, ...(Object.keys(details).length > 0 ? { details } : {}) }
}

function describeDetailsRefusal(json: string): string {
  const [kind, segments] = JSON.parse(json) as [string, PathSegment[]]
  if (kind === 'limit') return `its details are over ${CLIENT_DETAILS_BYTES} bytes of JSON`
  const { found, hint } = describeRefusal(kind)
  return `its details hold ${found} at ${formatPath('details', segments)}, which JSON cannot carry: ${hint}`
}

/** Delivers a host call's result into the isolate, as a slice of the invocation that made it. */
function answer(id: number, ok: boolean, value: string | ErrorDto): void {
  const call = hostCalls.get(id)
  if (!call) return
  hostCalls.delete(id)
  const inv = invocations.get(call.invocation)
  if (!inv) return
  slice(call.slot, inv, (live, timeout) => live.deliver.applySync(undefined, [call.guestId, ok, value], { arguments: { copy: true }, timeout }))
}

function ensureLive(slot: Resident, origin: number): ErrorDto | undefined {
  if (slot.live) return undefined
  // The component's module code runs again here: a stall in it is the invocation's that asked for the isolate.
  const recorded = recorder.begin(origin, slot.spec.loadTimeoutMs, slot.spec.key)
  try {
    slot.loading = { started: performance.now(), globalCalls: 0 }
    const { live, meta } = hold(slot, () => createIsolate(slot.spec, hostCallback(slot)))
    slot.live = live
    slot.hasInit = meta.hasInit
    return undefined
  } catch (error) {
    if (error instanceof LoadError) return error.dto
    throw error
  } finally {
    recorder.restore(recorded)
    slot.loading = undefined
  }
}

function begin(slot: Resident, id: number, kind: 'execute' | 'init', input: string, limits: InvocationLimitsDto,
  done: Invocation['done'], origin = id): void {
  const inv: Invocation = {
    id, origin, kind, slot, limits, deadline: performance.now() + limits.timeoutMs, cpuMs: 0, hostCalls: 0, globalCalls: 0, done,
    heldAtBegin: { total: heldTotal, own: held.get(slot.spec.name) ?? 0 },
  }
  invocations.set(id, inv)
  slot.invocations.add(inv)
  watchDeadline(inv.deadline)
  // Arguments are all primitives: passed as they are, without asking isolated-vm to copy (it parses that option and
  // wraps each one in an ExternalCopy per call otherwise).
  slice(slot, inv, (live, timeout) => live.start.applySync(undefined, [id, kind, input, limits.outputBytes], { timeout }))
}

/**
 * One wall-clock guard for the whole worker instead of a timer set and cleared per invocation (a Node timer and its
 * closure per call were a visible part of the worker's cost per call). It is armed for the earliest deadline it knows
 * of; when it fires, every invocation past its deadline (deadlineOf: pushed back by what other components held the
 * worker) breaches as it did with its own timer, and it re-arms for the earliest deadline left. A finished invocation
 * does not disarm it: it then fires once for nothing and re-arms, which costs one sweep per timeout period.
 */
let guard: NodeJS.Timeout | undefined
let guardAt = Infinity

function watchDeadline(at: number): void {
  if (at >= guardAt) return
  clearTimeout(guard)
  guardAt = at
  guard = setTimeout(sweep, Math.max(0, Math.ceil(at - performance.now())))
}

function sweep(): void {
  guard = undefined
  guardAt = Infinity
  const now = performance.now()
  let next = Infinity
  for (const inv of [...invocations.values()]) {
    if (!invocations.has(inv.id)) continue // ended by a breach of another invocation in this sweep
    const due = deadlineOf(inv)
    if (due <= now) breach(inv.slot, inv, 'timeout')
    else if (due < next) next = due
  }
  if (next < Infinity) watchDeadline(next)
}

function invoke(msg: Extract<SupervisorMessage, { t: 'invoke' }>): void {
  const reply = (ok: boolean, value: string | ErrorDto, cpuMs = 0): void => {
    send(ok ? { t: 'result', id: msg.id, output: value as string, cpuMs } : { t: 'error', id: msg.id, error: value as ErrorDto, cpuMs }, slots.get(msg.key)?.spec.name)
  }
  const slot = slots.get(msg.key)
  if (!slot) return reply(false, { code: 'ERR_SANDBOX_NOT_LOADED', message: `component ${msg.key} is not loaded in this worker` })
  const loadError = ensureLive(slot, msg.id)
  if (loadError) return reply(false, loadError)
  const validate = slot.live?.validateInput
  if (msg.kind === 'execute' && validate) {
    // Outside the slice record, like the output check: its own deadline (guest-schemas.ts) bounds it.
    const checked: GuestCheck = hold(slot, () => validate.check(JSON.parse(msg.input)))
    // The caller's input against the component's schema: too costly to check is the caller's fault, never a breach.
    if (checked.costly) return reply(false, { code: 'ERR_COMPONENT_INPUT_INVALID', message: `the input is too costly to check against the input schema of component '${slot.spec.name}': ${checked.costly}` })
    if (checked.issues) return reply(false, { code: 'ERR_COMPONENT_INPUT_INVALID', message: `the input does not match the input schema of component '${slot.spec.name}'`, details: { issues: checked.issues } })
  }
  if (msg.kind === 'execute' && slot.needsInit) {
    // A re-created isolate runs init again (as its own invocation, with the same limits) before serving.
    queued.set(msg.id, () => { queued.delete(msg.id); reply(false, breachError('cancelled', slot)) })
    const resume = () => { if (queued.delete(msg.id)) invoke(msg) }
    if (slot.waiting) return void slot.waiting.push(resume)
    slot.waiting = [resume]
    return begin(slot, -(++internalSeq), 'init', 'null', msg.limits, (ok, value, cpuMs) => {
      const waiting = slot.waiting ?? []
      slot.waiting = undefined
      if (ok) { slot.needsInit = false; waiting.forEach((r) => r()) } else {
        if (queued.delete(msg.id)) reply(false, value, cpuMs)
        waiting.slice(1).forEach((r) => r())
      }
    }, msg.id)
  }
  begin(slot, msg.id, msg.kind, msg.input, msg.limits, reply)
}

function load(msg: Extract<SupervisorMessage, { t: 'load' }>): void {
  const previous = slots.get(msg.key)
  if (previous) reset(previous, { code: SANDBOX_ERRORS.crashed, message: 'the component was reloaded' })
  const slot: Resident = {
    spec: msg, hasInit: false, needsInit: false, invocations: new Set(),
    log: createLogGate({ burst: 100, perSecond: 50, flush: (lines, dropped) => send({ t: 'log', key: msg.key, lines, dropped }, msg.name) }),
  }
  slots.set(msg.key, slot)
  const started = performance.now()
  const recorded = recorder.begin(0, msg.loadTimeoutMs, msg.key)
  const taken = blank
  blank = undefined
  try {
    slot.loading = { started: performance.now(), globalCalls: 0 }
    const { live, meta } = hold(slot, () => createIsolate(msg, hostCallback(slot), taken))
    slot.live = live
    slot.hasInit = meta.hasInit
    sendNow({ t: 'loaded', key: msg.key, meta, ms: performance.now() - started })
  } catch (error) {
    slots.delete(msg.key)
    sendNow({ t: 'load-failed', key: msg.key, error: error instanceof LoadError ? error.dto : { code: SANDBOX_ERRORS.load, message: String(error) } })
  } finally {
    recorder.restore(recorded)
    slot.loading = undefined
  }
  // A component loaded here before: components are being reloaded (watch mode, a config reload), so the next load is
  // likely near. Never at start, nor for a worker that only ever loads each component once.
  if (loadedNames.has(msg.name)) warmBlank(msg.memoryMb)
  loadedNames.add(msg.name)
}

/** Names of the components this worker loaded (any generation). */
const loadedNames = new Set<string>()

/** The next load's isolate, made ahead (isolate-slot.ts BlankIsolate); one at most, made only once reloads happen. */
let blank: BlankIsolate | undefined
let warming: NodeJS.Timeout | undefined
/** Made this long after a load: the reload that loaded it is still running its examples, which need the cores. */
const WARM_AFTER_MS = 100

function warmBlank(memoryMb: number): void {
  clearTimeout(warming)
  warming = setTimeout(() => {
    if (blank?.memoryMb === memoryMb && !blank.isolate.isDisposed) return
    if (blank && !blank.isolate.isDisposed) blank.isolate.dispose()
    try {
      blank = createBlank(memoryMb)
    } catch {
      blank = undefined // the next load makes its own, and reports what fails then
    }
  }, WARM_AFTER_MS)
  warming.unref()
}

// The supervisor sends what it queued in one turn as one list (supervisor.ts post), in order.
process.on('message', (msg: SupervisorMessage | SupervisorMessage[]) => {
  if (!Array.isArray(msg)) return dispatch(msg)
  for (const one of msg) dispatch(one)
})

function dispatch(msg: SupervisorMessage): void {
  switch (msg.t) {
    case 'load': return load(msg)
    case 'invoke': return invoke(msg)
    case 'host-result': return msg.ok ? answer(msg.id, true, msg.value) : answer(msg.id, false, msg.error)
    case 'cancel': return cancel(msg.id)
    case 'unload': {
      const slot = slots.get(msg.key)
      if (slot) { reset(slot, { code: SANDBOX_ERRORS.crashed, message: 'the component was unloaded' }); slots.delete(msg.key) }
      return
    }
    case 'stats': {
      const m = process.memoryUsage()
      return sendNow({
        t: 'stats', id: msg.id, rss: m.rss, heapUsed: m.heapUsed, external: m.external, isolates: [...slots.values()].filter((s) => s.live).length, spare: blank !== undefined && !blank.isolate.isDisposed,
        invocations: invocations.size + queued.size, hostCalls: hostCalls.size,
      })
    }
  }
}
// The engine is gone: nothing left to serve.
process.on('disconnect', () => process.exit(0))
sendNow({ t: 'ready', pid: process.pid })
