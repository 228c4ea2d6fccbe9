// The slots service (sdk SlotsService): deploy = check files → write the tree → validate → store (rejected or staged)
// → promote if asked; promote = the component host builds the version aside (compile, load, init, examples) and swaps
// it in with the old one drained, so no call fails; rollback = promote of the version live before. Every method
// checks the caller's scopes itself (HTTP and MCP cannot differ), and every action lands in the audit table.
import { join } from 'node:path'
import {
  ADMIN_READ_SCOPE, ADMIN_SCOPE, heldScopes, type AuditEntry, type DeployFiles, type DeployRequest, type DeployResult, type DeployStep,
  type Diagnostic, type Logger, type Principal, type SlotInfo, type SlotInvokeResult, type SlotsService, type SlotVersion,
} from '@islet/sdk'
import type { ComponentHost, ReloadResult } from '../components/host.ts'
import { toPublicDiagnostic } from '../config/diagnostics.ts'
import type { ComponentDecl, SlotDecl } from '../config/types.ts'
import { codeOf, IsletError, isIsletError, messageOf, type ErrorCode } from '../errors.ts'
import { publishEngineEvent, type EventBus } from '../events/bus.ts'
import { diffVersions } from './diff.ts'
import { createSlotLogs, type SlotLogs } from './logs.ts'
import { deploymentHash, openSlotStore, type SlotStore } from './store.ts'
import { checkTreePaths } from './tree-paths.ts'
import { checkDeployFiles, validateDeployment } from './validate.ts'
import { warmTypecheck } from './typecheck.ts'

export interface SlotsOptions {
  dataDir: string
  logger: Logger
  bus: EventBus
  /** The slots of the config generation serving. */
  slots(): readonly SlotDecl[]
  /** The component host (present whenever the app declares a slot). */
  host(): ComponentHost | undefined
  /**
   * How often to look for promotions another engine process made on the same data dir (`islet run --processes n`),
   * in ms; unset: never (a single process makes every promotion itself).
   */
  followMs?: number
}

export interface Slots {
  readonly service: SlotsService
  readonly logs: SlotLogs
  /** Whether `name` is a slot of the serving config (or of one a reload is preparing). */
  isSlot(name: string): boolean
  /**
   * What a config reload keeps serving for `slots`: each slot's serving code (as the host runs it) with the slot's
   * new grants, limits and config. A slot that serves nothing stays out (it keeps answering ERR_SLOT_EMPTY).
   */
  liveDecls(slots: readonly SlotDecl[]): ComponentDecl[]
  /**
   * Once the component host started: each slot's live version loaded like a promotion. One that fails to load (its
   * init fails today, say) is logged and leaves its slot empty — the app still starts, and a rollback or promote
   * through the admin API can fix it.
   */
  start(): Promise<void>
  /**
   * Each slot of the serving config as `/admin/status` shows it: name, live version (null when empty, or when the
   * store cannot be read), whether examples are required, the deployer scopes.
   */
  summary(): SlotSummary[]
  /**
   * The engine is ready: when the app declares slots, start the type checker in the background, so the first deploy
   * does not pay its cold start (about a second). Never awaited; an app without slots never starts it.
   */
  warm(): void
  /** A pipeline's call of a slot failed: the slot's log shows it. */
  noteFailure(slot: string, error: unknown): void
  /** Stops following other processes' promotions and closes the store. */
  close(): void
}

export interface SlotSummary {
  name: string
  live: number | null
  examplesRequired: boolean
  deployers: string[]
}

const DEFAULT_ENTRY = 'index.ts'
/** Caller requests one slot may have queued or running at once (deploy, promote, rollback). */
export const MAX_WAITING = 8


/** What refused a deployment, for its audit row: each error code once, e.g. `ERR_SLOT_CEILING, ERR_COMPONENT_SYNTAX`. */
const codesOf = (diagnostics: readonly Diagnostic[]) => [...new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.code))].join(', ')

/**
 * Who did it, for the audit: `via:subject` (`apikey:1a2b…`, `jwt:alice`, `loopback:loopback`), so a JWT whose sub
 * is `loopback` cannot pass for the loopback convenience, nor an API key's id for a JWT subject.
 */
const auditName = (p: Principal): string => `${p.via}:${p.subject}`

function refuse(code: ErrorCode, status: number, message: string, details: Record<string, unknown> = {}): IsletError {
  return new IsletError(code, message, { details: { status, ...details } })
}

export function createSlots(options: SlotsOptions): Slots {
  const { logger } = options
  let store: SlotStore | undefined
  /** Opened at first use: an app that declares no slot never creates <dataDir>/slots. */
  const db = (): SlotStore => store ??= openSlotStore(options.dataDir)
  /** Names declared by any config this engine ran or prepared: a reload's pipelines may call a slot it adds. */
  const known = new Set<string>()
  /** Per slot: generation number in the component host → version id. */
  const generations = new Map<string, Map<number, number>>()
  const queues = new Map<string, Promise<unknown>>()
  /** Per slot: caller requests queued or running (queued()). */
  const waiting = new Map<string, number>()
  /** The version each slot's component runs in this process (what `live` said when it was loaded here). */
  const serving = new Map<string, number>()
  /** Versions another process made live that failed to load here: not tried again until `live` changes. */
  const unloadable = new Map<string, number>()
  let follow: ReturnType<typeof setInterval> | undefined

  const decl = (name: string): SlotDecl | undefined => options.slots().find((s) => s.name === name)
  const versionOf = (slot: string, generation: number | undefined): number =>
    (generation !== undefined ? generations.get(slot)?.get(generation) : undefined) ?? (store?.live(slot) ?? 0)
  const logs = createSlotLogs((name) => known.has(name), versionOf)
  for (const s of options.slots()) known.add(s.name)

  /** Generation `generation` of the slot's component runs version `id` (its log lines say so). */
  function servesAs(slot: string, generation: number, id: number): void {
    let map = generations.get(slot)
    if (!map) generations.set(slot, map = new Map())
    map.set(generation, id)
  }

  /**
   * serial() for a caller's request, refused (429 ERR_SLOT_BUSY, audited) when MAX_WAITING changes of the slot are
   * already queued: each waiting deploy holds its files (up to ~1 MiB) in memory, so a flood of concurrent deploys must
   * not queue without end (test/hostile/deploy-files.test.ts).
   */
  function queued<T>(slot: string, p: Principal, action: AuditEntry['action'], task: () => Promise<T>): Promise<T> {
    const count = waiting.get(slot) ?? 0
    if (count >= MAX_WAITING) {
      audit(p, action, slot, null, null, 'refused', `busy: ${count} changes of the slot are already waiting`)
      return Promise.reject(refuse('ERR_SLOT_BUSY', 429, `slot '${slot}' already has ${count} deploys, promotions or rollbacks waiting: retry once they are done`, { slot }))
    }
    waiting.set(slot, count + 1)
    const done = () => { const n = (waiting.get(slot) ?? 1) - 1; if (n > 0) waiting.set(slot, n); else waiting.delete(slot) }
    const run = serial(slot, task)
    run.then(done, done)
    return run
  }

  /** One change of a slot at a time (deploy, promote, rollback): ids and live never race within this process. */
  function serial<T>(slot: string, task: () => Promise<T>): Promise<T> {
    const next = (queues.get(slot) ?? Promise.resolve()).then(task)
    const tail = next.catch(() => {})
    queues.set(slot, tail)
    void tail.then(() => { if (queues.get(slot) === tail) queues.delete(slot) })
    return next
  }

  function slotOf(name: string): SlotDecl {
    const s = decl(name)
    if (!s) {
      const names = options.slots().map((x) => x.name)
      throw refuse('ERR_SLOT_UNKNOWN', 404, `no slot named '${name}' is declared${names.length ? ` (slots: ${names.join(', ')})` : ' (the app declares no slots)'}`,
        { slot: name })
    }
    return s
  }
  // heldScopes, as every other check: a principal whose scopes are not an array (a JWT's scope string passed on as
  // it is) holds none, rather than failing with a TypeError (a 500) here.
  const holds = (p: Principal, scopes: readonly string[]) => heldScopes(p).some((s) => scopes.includes(s))
  /**
   * Refuses `p` unless it holds one of `scopes` on slot `s`; `what` is the verb of the message. A refused change is
   * audited as `action` — every principal that reaches the service was authenticated (the admin API answers 401
   * itself, before any service call), so a flood without valid credentials never grows the audit table.
   */
  function needs(s: SlotDecl, p: Principal, what: 'change' | 'read', scopes: readonly string[], action?: AuditEntry['action']): void {
    const required = [...new Set(scopes)]
    if (!holds(p, required)) {
      if (action) audit(p, action, s.name, null, null, 'refused', `missing scope: needs one of ${required.join(', ')}`)
      throw refuse('ERR_ADMIN_FORBIDDEN', 403, `'${p.subject}' may not ${what} slot '${s.name}': it needs one of the scopes ${required.join(', ')}`,
        { slot: s.name, required })
    }
  }
  const mayChange = (s: SlotDecl, p: Principal, action: AuditEntry['action']) => needs(s, p, 'change', [ADMIN_SCOPE, ...s.deployers], action)
  const mayRead = (s: SlotDecl, p: Principal) => needs(s, p, 'read', [ADMIN_SCOPE, ADMIN_READ_SCOPE, ...s.deployers])
  /**
   * The slot as the serving config declares it now, checked again against `p`: a request that waited in its slot's
   * queue (serial) while a config reload changed the slot (its grants, limits, deployers, or the slot itself) acts on
   * the slot as it is, never as it was when the request arrived (test/hostile/deploy-races.test.ts).
   */
  function current(name: string, p: Principal, action: AuditEntry['action']): SlotDecl {
    const s = slotOf(name)
    mayChange(s, p, action)
    return s
  }
  function versionIn(s: SlotDecl, id: number): SlotVersion {
    const v = Number.isInteger(id) ? db().get(s.name, id) : undefined
    if (!v) throw refuse('ERR_SLOT_VERSION_UNKNOWN', 404, `slot '${s.name}' has no version ${id}`, { slot: s.name, version: id })
    return v
  }
  function hostOf(s: SlotDecl): ComponentHost {
    const host = options.host()
    if (!host) throw refuse('ERR_ENGINE_STATE', 503, `slot '${s.name}' cannot run code: the engine runs no component host (restart it)`)
    return host
  }
  const componentOf = (s: SlotDecl, v: SlotVersion): ComponentDecl => ({
    name: s.name, file: join(db().tree(v), v.entry), limits: s.limits, grants: s.grants, config: s.config, source: s.source, configSource: s.source,
    // Deployed code never shares a worker with the app's components (test/hostile/deploy-neighbours.test.ts).
    dedicated: true,
  })
  const info = (s: SlotDecl): SlotInfo => ({
    name: s.name, ...(s.description !== undefined ? { description: s.description } : {}),
    grants: s.grants as unknown as Record<string, unknown>, limits: s.limits as Record<string, number>, deployers: [...s.deployers],
    examplesRequired: s.examplesRequired, live: db().live(s.name),
  })
  function audit(p: Principal, action: AuditEntry['action'], slot: string, version: number | null, hash: string | null, result: AuditEntry['result'], detail?: string) {
    try {
      db().audit({ principal: auditName(p), action, slot, version, hash, result, ...(detail ? { detail: detail.slice(0, 2000) } : {}) })
    } catch (error) {
      logger.error({ err: error, slot, action }, `slot '${slot}': the audit row could not be written`)
    }
  }
  function publish(type: string, payload: Record<string, unknown>): void {
    publishEngineEvent(options.bus, { type: `slot.${type}`, at: new Date().toISOString(), ...payload })
  }

  function dropTree(slot: string, hash: string): void {
    try {
      db().dropTree(slot, hash)
    } catch (error) {
      logger.warn({ err: error, slot }, `slot '${slot}': the folder of a checked deployment could not be removed`)
    }
  }

  /** Makes `v` live through the component host; a failure leaves the live version serving and is in the result. */
  async function makeLive(s: SlotDecl, v: SlotVersion, p: Principal, action: 'promote' | 'rollback'): Promise<DeployResult> {
    const t = performance.now()
    const base = { slot: s.name, dryRun: false }
    if (v.status === 'rejected') {
      audit(p, action, s.name, v.id, v.hash, 'refused', 'the version was rejected by validation')
      throw refuse('ERR_SLOT_PROMOTE_FAILED', 409, `slot '${s.name}' version ${v.id} was rejected by validation and cannot be made live; deploy a fixed version`,
        { slot: s.name, version: v.id })
    }
    if (db().live(s.name) === v.id) {
      audit(p, action, s.name, v.id, v.hash, 'ok', 'already live')
      return { ...base, ok: true, steps: [{ name: 'promote', status: 'passed', ms: 0 }], diagnostics: [], version: v, promoted: false }
    }
    let result: ReloadResult
    try {
      result = await hostOf(s).replace(componentOf(s, v))
      // A config reload while it was prepared: what swapped in carries the slot's grants and limits from before. Once
      // more with the slot as it is now (a reload's liveDecls saw the version before, not this one).
      for (let again = 0, now = decl(s.name); result.ok && now !== undefined && now !== s && again < 3; again++, now = decl(s.name)) {
        s = now
        result = await hostOf(s).replace(componentOf(s, v))
      }
    } catch (error) {
      result = { name: s.name, ok: false, ms: 0, error: { code: codeOf(error, 'ERR_SLOT_PROMOTE_FAILED'), message: messageOf(error) } }
    }
    const steps: DeployStep[] = [{ name: 'promote', status: result.ok ? 'passed' : 'failed', ms: Math.round(performance.now() - t) }]
    if (!result.ok) {
      const e = result.error
      const diagnostics: Diagnostic[] = e?.diagnostics?.map(toPublicDiagnostic) ?? [{
        code: e?.code ?? 'ERR_SLOT_PROMOTE_FAILED', severity: 'error', message: e?.message ?? 'the version could not be loaded',
        file: e?.location?.file ?? null, line: e?.location?.line ?? null, column: e?.location?.col ?? null, hint: null,
      }]
      audit(p, action, s.name, v.id, v.hash, 'failed', e?.message)
      return { ...base, ok: false, steps, diagnostics, version: v, promoted: false }
    }
    db().setLive(s.name, v.id)
    serving.set(s.name, v.id)
    if (result.generation !== undefined) servesAs(s.name, result.generation, v.id)
    audit(p, action, s.name, v.id, v.hash, 'ok')
    publish(action === 'promote' ? 'promoted' : 'rolled-back', { slot: s.name, version: v.id, hash: v.hash, principal: p.subject })
    logger.info({ slot: s.name, version: v.id, generation: result.generation }, `slot '${s.name}': version ${v.id} is live`)
    return { ...base, ok: true, steps, diagnostics: [], version: db().get(s.name, v.id)!, promoted: true }
  }

  async function deploy(s: SlotDecl, request: DeployRequest, p: Principal): Promise<DeployResult> {
    const entry = request.entry ?? DEFAULT_ENTRY
    const dryRun = request.dryRun === true
    const action = dryRun ? 'dry-run' : 'deploy'
    const files = (request.files ?? {}) as DeployFiles
    let bad = checkDeployFiles(files, entry)
    if (!bad.some((d) => d.severity === 'error')) bad = [...bad, ...checkTreePaths(files)]
    if (bad.some((d) => d.severity === 'error')) {
      audit(p, action, s.name, null, null, 'refused', bad.map((d) => d.message).join('; '))
      const steps: DeployStep[] = [{ name: 'files', status: 'failed', ms: 0 }, ...['compile', 'typecheck', 'schemas', 'ceiling', 'examples']
        .map((name): DeployStep => ({ name, status: 'skipped', ms: 0 }))]
      return { ok: false, slot: s.name, dryRun, steps, diagnostics: bad, promoted: false }
    }
    const hash = deploymentHash(files, entry)
    let validation: Awaited<ReturnType<typeof validateDeployment>>
    try {
      const tree = db().materialise(s.name, hash, files)
      validation = await validateDeployment({ files, entry, tree }, s, { host: hostOf(s), logger })
    } catch (error) {
      dropTree(s.name, hash)
      // Whatever stopped it (the disk refusing the tree, the validator failing), the attempt is in the audit.
      audit(p, action, s.name, null, hash, isIsletError(error, 'ERR_DEPLOY_FILES') ? 'refused' : 'failed', `${codeOf(error, 'ERR_INTERNAL')}: ${messageOf(error)}`)
      throw error
    }
    // A deployer sending dry runs (or refused code) in a loop must not fill the disk with trees: only a version that
    // can be made live keeps one (test/hostile/deploy-files.test.ts).
    if (dryRun || !validation.ok) dropTree(s.name, hash)
    if (dryRun) {
      audit(p, action, s.name, null, hash, validation.ok ? 'ok' : 'refused', validation.ok ? undefined : codesOf(validation.diagnostics))
      return { ok: validation.ok, slot: s.name, dryRun, steps: validation.steps, diagnostics: validation.diagnostics, promoted: false }
    }
    const stored = db().insert({
      slot: s.name, hash, author: p.subject, status: validation.ok ? 'staged' : 'rejected', entry,
      ...(request.message !== undefined ? { message: String(request.message).slice(0, 2000) } : {}),
      files: db().putFiles(files), diagnostics: validation.diagnostics,
    })
    audit(p, 'deploy', s.name, stored.id, hash, validation.ok ? 'ok' : 'refused', validation.ok ? undefined : codesOf(validation.diagnostics))
    if (!validation.ok) {
      publish('rejected', { slot: s.name, version: stored.id, hash, principal: p.subject, diagnostics: validation.diagnostics })
      return { ok: false, slot: s.name, dryRun, steps: validation.steps, diagnostics: validation.diagnostics, version: stored, promoted: false }
    }
    publish('deployed', { slot: s.name, version: stored.id, hash, principal: p.subject })
    const result: DeployResult = { ok: true, slot: s.name, dryRun, steps: validation.steps, diagnostics: validation.diagnostics, version: stored, promoted: false }
    if (!request.promote) return result
    const promoted = await makeLive(s, stored, p, 'promote')
    return { ...promoted, steps: [...validation.steps, ...promoted.steps], diagnostics: [...validation.diagnostics, ...promoted.diagnostics] }
  }

  const service: SlotsService = {
    list(p) {
      return options.slots().filter((s) => holds(p, [ADMIN_SCOPE, ADMIN_READ_SCOPE, ...s.deployers])).map(info)
    },
    describe(name, p) {
      const s = slotOf(name)
      mayRead(s, p)
      return info(s)
    },
    async deploy(name, request, p) {
      const s = slotOf(name)
      mayChange(s, p, typeof request === 'object' && request !== null && request.dryRun === true ? 'dry-run' : 'deploy')
      if (typeof request !== 'object' || request === null) throw refuse('ERR_DEPLOY_FILES', 400, 'a deploy takes { files, entry?, message?, dryRun?, promote? }')
      const action = request.dryRun === true ? 'dry-run' : 'deploy'
      return queued(name, p, action, () => deploy(current(name, p, action), request, p))
    },
    async promote(name, id, p) {
      const s = slotOf(name)
      mayChange(s, p, 'promote')
      return queued(name, p, 'promote', async () => {
        const now = current(name, p, 'promote')
        return makeLive(now, versionIn(now, id), p, 'promote')
      })
    },
    async rollback(name, p, to) {
      const s = slotOf(name)
      mayChange(s, p, 'rollback')
      return queued(name, p, 'rollback', async () => {
        const now = current(name, p, 'rollback')
        const target = to ?? db().previousLive(name)
        if (target === null) {
          audit(p, 'rollback', name, null, null, 'refused', 'no version was live before the current one')
          throw refuse('ERR_SLOT_VERSION_UNKNOWN', 409, `slot '${name}' has no version that was live before the current one: name one (to)`, { slot: name })
        }
        return makeLive(now, versionIn(now, target), p, 'rollback')
      })
    },
    versions(name, p) {
      const s = slotOf(name)
      mayRead(s, p)
      return db().list(name)
    },
    version(name, id, p) {
      const s = slotOf(name)
      mayRead(s, p)
      return versionIn(s, id)
    },
    source(name, id, p) {
      const s = slotOf(name)
      mayRead(s, p)
      return db().files(versionIn(s, id))
    },
    diff(name, from, to, p) {
      const s = slotOf(name)
      mayRead(s, p)
      return diffVersions(db().files(versionIn(s, from)), db().files(versionIn(s, to)))
    },
    logs(name, p, opts) {
      const s = slotOf(name)
      mayRead(s, p)
      return logs.list(name, opts)
    },
    followLogs(name, p, listener) {
      const s = slotOf(name)
      mayRead(s, p)
      return logs.follow(name, listener)
    },
    async invoke(name, input, p): Promise<SlotInvokeResult> {
      const s = slotOf(name)
      mayChange(s, p, 'invoke')
      const live = db().live(name)
      if (live === null) {
        audit(p, 'invoke', name, null, null, 'refused', 'the slot is empty')
        throw refuse('ERR_SLOT_EMPTY', 503, `slot '${name}' has no live version yet: deploy one and promote it`, { slot: name })
      }
      const v = db().get(name, live)!
      const t = performance.now()
      try {
        const output = await hostOf(s).invoke(name, input)
        audit(p, 'invoke', name, live, v.hash, 'ok')
        return { ok: true, version: live, output, ms: Math.round(performance.now() - t) }
      } catch (error) {
        const code = codeOf(error, 'ERR_COMPONENT_THREW')
        noteFailure(name, error)
        audit(p, 'invoke', name, live, v.hash, 'failed', `${code}: ${messageOf(error)}`)
        return { ok: false, version: live, error: { code, message: messageOf(error) }, ms: Math.round(performance.now() - t) }
      }
    },
    audit(p, opts = {}) {
      const slot = opts.slot !== undefined ? slotOf(opts.slot) : undefined
      if (slot) mayRead(slot, p)
      else if (!holds(p, [ADMIN_SCOPE, ADMIN_READ_SCOPE])) {
        throw refuse('ERR_ADMIN_FORBIDDEN', 403, `'${p.subject}' may not read the audit log: it needs one of the scopes ${ADMIN_SCOPE}, ${ADMIN_READ_SCOPE} (or a slot's deployer scope, with slot)`,
          { required: [ADMIN_SCOPE, ADMIN_READ_SCOPE] })
      }
      return db().auditList({ ...(slot ? { slot: slot.name } : {}), limit: Math.max(1, Math.min(1000, opts.limit ?? 100)) })
    },
  }

  /**
   * Another engine process on this data dir promoted or rolled back: load what `live` names now, as a promotion
   * would (no call fails). Its audit row and event belong to the process that made the change.
   */
  function catchUp(): void {
    const host = options.host()
    if (!host || !store) return
    for (const s of options.slots()) {
      if (queues.has(s.name)) continue // a change of this slot is under way here: look again next time
      let id: number | null
      try { id = store.live(s.name) } catch { return }
      if (id === null || id === serving.get(s.name) || id === unloadable.get(s.name)) continue
      const v = store.get(s.name, id)
      if (!v) continue
      void serial(s.name, async () => {
        if (db().live(s.name) !== id || serving.get(s.name) === id) return
        const result = await host.replace(componentOf(s, v))
        if (result.ok) {
          serving.set(s.name, v.id)
          unloadable.delete(s.name)
          if (result.generation !== undefined) servesAs(s.name, result.generation, v.id)
          logger.info({ slot: s.name, version: v.id }, `slot '${s.name}': version ${v.id}, made live by another engine process, serves here too`)
          return
        }
        unloadable.set(s.name, v.id)
        logger.error({ slot: s.name, version: v.id, code: result.error?.code },
          `slot '${s.name}': version ${v.id}, made live by another engine process, could not be loaded here: ${result.error?.message ?? 'unknown error'}`)
      }).catch((error: unknown) => logger.error({ slot: s.name, err: error }, `slot '${s.name}': following another process's promotion failed`))
    }
  }

  function noteFailure(slot: string, error: unknown): void {
    const code = isIsletError(error) ? error.code : codeOf(error, 'ERR_COMPONENT_THREW')
    logs.add(slot, { level: 'error', message: `call failed: ${code}: ${messageOf(error)}`, version: versionOf(slot, undefined), fields: { code } })
  }

  return {
    service: Object.freeze(service),
    logs,
    isSlot: (name) => known.has(name),
    liveDecls(slots) {
      const out: ComponentDecl[] = []
      for (const s of slots) {
        known.add(s.name)
        const serving = options.host()?.generation(s.name)
        if (serving) out.push({ name: s.name, file: serving.decl.file, limits: s.limits, grants: s.grants, config: s.config, source: s.source, configSource: s.source, dedicated: true })
      }
      return out
    },
    async start() {
      const host = options.host()
      if (!host) return
      await Promise.all(options.slots().map((s) => serial(s.name, async () => {
        const id = db().live(s.name)
        const v = id === null ? undefined : db().get(s.name, id)
        if (!v) return
        let result: ReloadResult
        try {
          result = await host.replace(componentOf(s, v))
        } catch (error) {
          result = { name: s.name, ok: false, ms: 0, error: { code: codeOf(error, 'ERR_SLOT_STORE'), message: messageOf(error) } }
        }
        if (result.ok && result.generation !== undefined) {
          servesAs(s.name, result.generation, v.id)
          serving.set(s.name, v.id)
          return
        }
        const why = `${result.error?.code ?? 'ERR_COMPONENT_LOAD_FAILED'}: ${result.error?.message ?? 'unknown error'}`
        logger.error({ slot: s.name, version: v.id, code: result.error?.code },
          `slot '${s.name}': live version ${v.id} could not be loaded (${why}); the slot answers ERR_SLOT_EMPTY until a version is promoted or rolled back to`)
        logs.add(s.name, { level: 'error', message: `version ${v.id} could not be loaded at start: ${why}`, version: v.id, fields: { code: result.error?.code } })
      }).catch((error: unknown) => {
        // The store itself failed (unreadable, objects missing): the slot stays empty, the app starts.
        logger.error({ slot: s.name, err: error }, `slot '${s.name}': its live version could not be read: ${messageOf(error)}`)
      })))
      if (options.followMs !== undefined) {
        follow = setInterval(catchUp, options.followMs)
        follow.unref()
      }
    },
    summary() {
      return options.slots().map((s) => {
        let live: number | null = null
        // The status answers even when the store does not (a broken data dir shows in the slots' own routes).
        try { live = db().live(s.name) } catch { /* null */ }
        return { name: s.name, live, examplesRequired: s.examplesRequired, deployers: [...s.deployers] }
      })
    },
    warm() {
      if (options.slots().length === 0) return
      warmTypecheck().catch((error: unknown) => logger.warn({ err: error }, `the type checker could not be warmed (the first deploy starts it): ${messageOf(error)}`))
    },
    noteFailure,
    close() {
      if (follow) clearInterval(follow)
      follow = undefined
      store?.close()
      store = undefined
    },
  }
}
