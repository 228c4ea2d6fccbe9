// One component generation's isolate inside a worker: creation (bootstrap, guest code, install) and time-sliced
// synchronous calls, each bounded by what is left of its invocation's wall and CPU budgets.
import ivm from 'isolated-vm'
import type { ComponentMetaDto, ErrorDto, GrantedDto } from './protocol.ts'
import { SANDBOX_ERRORS } from './protocol.ts'
import { BOOTSTRAP } from './guest-bootstrap.ts'
import { compileGuestSchema, type GuestValidator } from './guest-schemas.ts'
import { describeRefusal, formatPath, type PathSegment } from './output-values.ts'

export interface SlotSpec {
  key: string
  code: string
  memoryMb: number
  loadTimeoutMs: number
  config: string
  name: string
  generation: number
  /** What the app granted: calls for anything else are refused inside the isolate (absent: all go to the host). */
  granted?: GrantedDto
}

/**
 * What one guest's host reference receives: ('call', inv, callId, op, args) | ('log', …) | ('done', inv, status,
 * payload, conversions) | ('global', op, a, b, c) → string (a web global's worker call: globals/worker-calls.ts): status 'ok' (payload: the output JSON; conversions: JSON [kind, path][]), 'output' (over the
 * cap), 'invalid' (payload: JSON [kind, path] of a value JSON cannot carry) or 'threw' (payload: the described error).
 */
export type HostCallback = (kind: string, a: unknown, b: unknown, c: unknown, d: unknown) => string | void

export interface LiveIsolate {
  isolate: ivm.Isolate
  start: ivm.Reference
  deliver: ivm.Reference
  /** Rejects a cancelled invocation's pending host calls inside the isolate (bootstrap `cancel`). */
  cancel: ivm.Reference
  /** The component's own schemas, compiled here in the worker (never in the engine). */
  validateInput?: GuestValidator
  validateOutput?: GuestValidator
  /** The output schema as declared: which conversions (a Date as its ISO string, …) it allows (output-values.ts). */
  outputSchema?: unknown
}

/** Why a slice ended early. */
export type Breach = 'timeout' | 'cpu' | 'memory'

export class LoadError extends Error {
  readonly dto: ErrorDto
  constructor(dto: ErrorDto) {
    super(dto.message)
    this.dto = dto
  }
}

/** Classifies an exception thrown by a synchronous isolated-vm call. */
export function classify(isolate: ivm.Isolate, error: unknown, byWall: boolean): Breach | undefined {
  const message = error instanceof Error ? error.message : String(error)
  if (isolate.isDisposed || /memory limit|disposed/i.test(message)) return 'memory'
  if (/timed out/i.test(message)) return byWall ? 'timeout' : 'cpu'
  return undefined
}

/**
 * An isolate with its context and the bootstrap evaluated, and no guest code: what every load starts from, made ahead
 * (warmBlank) so that a reload does not wait for it (about two thirds of a load's work in the worker). Its host
 * reference calls whatever `route.host` the load that takes it sets.
 */
export interface BlankIsolate {
  memoryMb: number
  isolate: ivm.Isolate
  context: ivm.Context
  api: ivm.Reference
  route: { host?: HostCallback }
}

/**
 * The bootstrap as one script (a function of the host reference), compiled with V8's code cache after the first time
 * in this worker: parsing it afresh in every isolate cost 1.3 ms before the web globals (globals/*.ts) and about 3 ms
 * with them; from the cache it is about 1 ms. The cache is made here, from our own source, and never leaves the worker.
 */
const BOOTSTRAP_SCRIPT = `(function ($0) {${BOOTSTRAP}\n})`
let bootstrapCache: ivm.ExternalCopy<ArrayBuffer> | undefined

function runBootstrap(isolate: ivm.Isolate, context: ivm.Context, host: HostCallback): ivm.Reference {
  // Both options: new data is produced only when there is none yet or V8 rejected what was given. No filename: its
  // frames keep isolated-vm's '<isolated-vm>', as guest stack traces showed them before.
  const script = isolate.compileScriptSync(BOOTSTRAP_SCRIPT, { produceCachedData: true, ...(bootstrapCache ? { cachedData: bootstrapCache } : {}) })
  const produced = (script as ivm.Script & ivm.CachedDataResult).cachedData
  if (produced !== undefined) bootstrapCache = produced
  const make = script.runSync(context, { reference: true }) as ivm.Reference
  return make.applySync(undefined, [new ivm.Reference(host)], { result: { reference: true } }) as ivm.Reference
}

export function createBlank(memoryMb: number): BlankIsolate {
  const isolate = new ivm.Isolate({ memoryLimit: memoryMb })
  try {
    const route: BlankIsolate['route'] = {}
    const context = isolate.createContextSync()
    const forward: HostCallback = (kind, a, b, c, d) => route.host?.(kind, a, b, c, d)
    const api = runBootstrap(isolate, context, forward)
    return { memoryMb, isolate, context, api, route }
  } catch (error) {
    if (!isolate.isDisposed) isolate.dispose()
    throw error
  }
}

/**
 * Creates the isolate, runs the bootstrap and the guest's module code, installs the definition; returns its meta.
 * Starts from `blank` (which it then owns) when that was made with this spec's memory limit.
 */
export function createIsolate(spec: SlotSpec, host: HostCallback, blank?: BlankIsolate): { live: LiveIsolate; meta: ComponentMetaDto } {
  const isBlankFit = blank !== undefined && blank.memoryMb === spec.memoryMb && !blank.isolate.isDisposed
  if (blank && !isBlankFit && !blank.isolate.isDisposed) blank.isolate.dispose()
  const isolate = isBlankFit ? blank.isolate : new ivm.Isolate({ memoryLimit: spec.memoryMb })
  const fail = (code: string, message: string, details?: Record<string, unknown>): never => {
    if (!isolate.isDisposed) isolate.dispose()
    throw new LoadError({ code, message, ...(details ? { details } : {}) })
  }
  const timeout = spec.loadTimeoutMs
  try {
    let context: ivm.Context
    let api: ivm.Reference
    if (isBlankFit) {
      ({ context, api } = blank)
      blank.route.host = host
    } else {
      context = isolate.createContextSync()
      api = runBootstrap(isolate, context, host)
    }
    const install = api.getSync('install', { reference: true }) as ivm.Reference
    const configure = api.getSync('configure', { reference: true }) as ivm.Reference
    const start = api.getSync('start', { reference: true }) as ivm.Reference
    const deliver = api.getSync('deliver', { reference: true }) as ivm.Reference
    const cancel = api.getSync('cancel', { reference: true }) as ivm.Reference
    const script = isolate.compileScriptSync(spec.code, { filename: `component:${spec.name}` })
    const definition = script.runSync(context, { timeout, reference: true }) as ivm.Reference
    const installed = install.applySync(undefined, [definition.derefInto()], { arguments: { copy: true }, result: { copy: true }, timeout }) as string
    if (typeof installed !== 'string' || installed.length > 2_000_000) fail(SANDBOX_ERRORS.load, 'the component definition is too large to describe (over 1 MB of schemas and examples)')
    const [described, examples, refused] = JSON.parse(installed) as [ComponentMetaDto, ComponentMetaDto['examples'] | null, [string, PathSegment[]] | null]
    if (refused) {
      if (refused[0] === 'limit') fail(SANDBOX_ERRORS.load, 'the examples of the component are larger than 1 MB')
      const path = formatPath('examples', refused[1])
      const { found, hint } = describeRefusal(refused[0])
      fail(SANDBOX_ERRORS.load, `component '${spec.name}' declares ${found} at ${path}, which JSON cannot carry: ${hint}`, { path, found, hint })
    }
    const meta: ComponentMetaDto = examples ? { ...described, examples } : described
    const schemas = compileSchemas(spec.name, meta)
    // The config from YAML, checked against the component's own schema, with its defaults filled, before it runs.
    const config = JSON.parse(spec.config) as unknown
    const checked = schemas.config?.check(config)
    if (checked?.costly) fail('ERR_COMPONENT_CONFIG_INVALID', `the config of component '${spec.name}' could not be checked against its schema: ${checked.costly}`)
    if (checked?.issues) {
      const found = checked.issues
      fail('ERR_COMPONENT_CONFIG_INVALID', `the config of component '${spec.name}' does not match its schema: ${found.map((i) => `${i.path || 'the config'} ${i.message}`).join('; ')}`, { issues: found })
    }
    configure.applySync(undefined, [JSON.stringify(config), spec.name, spec.generation, JSON.stringify(spec.granted ?? null)], { arguments: { copy: true }, timeout })
    return { live: { isolate, start, deliver, cancel, validateInput: schemas.input, validateOutput: schemas.output, outputSchema: meta.output }, meta }
  } catch (error) {
    if (error instanceof LoadError) throw error
    const breach = classify(isolate, error, true)
    if (breach === 'memory') return fail(SANDBOX_ERRORS.memory, `loading the component exceeded its memory limit of ${spec.memoryMb} MB`)
    if (breach) return fail(SANDBOX_ERRORS.timeout, `loading the component took longer than ${timeout} ms`)
    // isolated-vm copies the guest's stack into the error it throws here: the frames locate a module-level throw.
    const frames = guestFrames(error instanceof Error ? error.stack : undefined, spec.name)
    return fail(SANDBOX_ERRORS.threw, `loading the component failed: ${guestMessage(error)}`, frames.length > 0 ? { frames } : undefined)
  }
}

function compileSchemas(name: string, meta: ComponentMetaDto) {
  try {
    return {
      config: compileGuestSchema(name, 'config', meta.config, true),
      input: compileGuestSchema(name, 'input', meta.input),
      output: compileGuestSchema(name, 'output', meta.output),
    }
  } catch (error) {
    throw new LoadError({ code: 'ERR_COMPONENT_LOAD_FAILED', message: (error as Error).message })
  }
}

/** How many guest frames cross the boundary (the engine maps the first one that is the component's own code). */
const MAX_FRAMES = 10

/**
 * The [line, col] of each frame of `stack` in the component's own script (`component:<name>`), top first: positions
 * in the compiled script, which only the engine can map to sources (the source map never enters the sandbox).
 */
export function guestFrames(stack: unknown, name: string): [number, number][] {
  if (typeof stack !== 'string') return []
  const frames: [number, number][] = []
  const prefix = `component:${name}:`
  for (const line of stack.slice(0, 8000).split('\n')) {
    const at = line.indexOf(prefix)
    if (at === -1) continue
    const m = /^(\d+):(\d+)/.exec(line.slice(at + prefix.length))
    if (m) frames.push([Number(m[1]), Number(m[2])])
    if (frames.length === MAX_FRAMES) break
  }
  return frames
}

/** A guest error's message without the host stack isolated-vm appends. */
export function guestMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0].slice(0, 2000)
}
