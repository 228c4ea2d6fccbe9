// The kv capability's rules: one namespace per component, sizes capped, a quota per namespace, versions for
// compare-and-set; and a scratch store in memory for examples. The SQLite store (kv-sqlite.ts) and the scratch one
// run the same namespace logic (below) over their own backend, so the rules cannot drift apart.
import { IsletError } from '../../../errors.ts'

export const KV_LIMITS = { keyBytes: 512, valueBytes: 65_536, listMax: 1_000 } as const

/** What `grants: { kv: true }` means: room for a busy cache or counters, far from filling a disk. */
export const KV_QUOTA_DEFAULTS: KvQuota = Object.freeze({ maxBytes: 16 * 1024 * 1024, maxKeys: 10_000 })

/** A namespace's bound: UTF-8 bytes of its keys plus their values' JSON text, and how many keys it holds. */
export interface KvQuota {
  maxBytes: number
  maxKeys: number
}

export interface KvUsage {
  bytes: number
  keys: number
}

/** A stored value and its version: versions only grow within a namespace, a re-created key never gets an old one. */
export interface KvEntry {
  value: unknown
  version: number
}

/** The quota a `kv` grant sets (`true`: the defaults), or undefined when kv is not granted. */
export function kvQuota(grant: boolean | Partial<KvQuota> | undefined): KvQuota | undefined {
  if (!grant) return undefined
  return { ...KV_QUOTA_DEFAULTS, ...(grant === true ? {} : grant) }
}

export interface KvStore {
  /**
   * A view confined to one namespace; every key a guest passes is checked here. Writes that would take the namespace
   * over `quota` are refused (ERR_CAPABILITY_QUOTA); without one (an example's fixture), nothing is counted against.
   */
  namespace(name: string, quota?: KvQuota): KvNamespace
  /** What a namespace holds now (O(1): kept up to date by every write). */
  usage(name: string): KvUsage
  close(): void
}

/** Host ops as the capability object calls them: arguments are guest data, checked here. */
export interface KvNamespace {
  get(key: unknown): unknown
  getEntry(key: unknown): KvEntry | null
  /** Resolves with the new version; `{ ifVersion }` makes it a compare-and-set (ERR_CAPABILITY_CONFLICT). */
  set(key: unknown, value: unknown, options?: unknown): number
  /** Adds `by` (default 1) to a stored number (missing: 0) in one step; resolves with the new number. */
  increment(key: unknown, by?: unknown): number
  delete(key: unknown): boolean
  list(prefix: unknown, limit: unknown): string[]
}

/** One stored row as the namespace logic sees it. */
export interface Row {
  text: string
  version: number
  /** UTF-8 bytes of key + text, as counted against the quota. */
  bytes: number
}

/** Usage plus the namespace's version counter. */
export interface Counters extends KvUsage {
  seq: number
}

/** Storage the namespace logic runs over: the SQLite file (kv-sqlite.ts) or the scratch maps. */
export interface Backend {
  read(ns: string, key: string): Row | undefined
  counters(ns: string): Counters
  write(ns: string, key: string, text: string, version: number, after: Counters): void
  remove(ns: string, key: string, after: Counters): void
  /** Keys of `ns` starting with `prefix`, in UTF-8 byte order, at most `limit`. */
  list(ns: string, prefix: string, limit: number): string[]
  /** Runs `fn` so that no other write interleaves with it (the check and the write of a quota or version). */
  atomically<T>(fn: () => T): T
}

const denied = (reason: string, message: string) => new IsletError('ERR_CAPABILITY_DENIED', message, { details: { capability: 'kv', reason } })
const conflict = (reason: string, message: string, details: Record<string, unknown> = {}) =>
  new IsletError('ERR_CAPABILITY_CONFLICT', message, { details: { capability: 'kv', reason, ...details } })
const shown = (key: string) => JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key)

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw denied('kv-key-invalid', 'kv keys are non-empty strings')
  // A lone surrogate has no UTF-8 form: SQLite would store U+FFFD, and two keys would become one.
  if (!key.isWellFormed()) throw denied('kv-key-invalid', 'kv keys must be well-formed Unicode (no lone surrogates)')
  if (Buffer.byteLength(key) > KV_LIMITS.keyBytes) throw denied('kv-key-too-large', `kv keys are at most ${KV_LIMITS.keyBytes} bytes`)
  return key
}

function encode(value: unknown): string {
  const text = JSON.stringify(value ?? null)
  if (Buffer.byteLength(text) > KV_LIMITS.valueBytes) throw denied('kv-value-too-large', `kv values are at most ${KV_LIMITS.valueBytes} bytes as JSON`)
  return text
}

function listArgs(prefix: unknown, limit: unknown): [string, number] {
  const p = prefix === undefined || prefix === null ? '' : String(prefix)
  if (!p.isWellFormed()) throw denied('kv-key-invalid', 'a kv list prefix must be well-formed Unicode (no lone surrogates)')
  const n = typeof limit === 'number' && limit > 0 ? Math.min(Math.floor(limit), KV_LIMITS.listMax) : 100
  return [p, n]
}

/** `undefined`: unconditional; 0: the key must not exist; n: it must be at version n. */
function expectedVersion(options: unknown): number | undefined {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object' || Array.isArray(options)) throw denied('kv-options-invalid', 'kv.set options are an object: { ifVersion }')
  const v = (options as { ifVersion?: unknown }).ifVersion
  if (v === undefined) return undefined
  if (v === null) return 0
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw denied('kv-options-invalid', 'ifVersion is a version from kv.getEntry, or 0 (or null) for "must not exist yet"')
  }
  return v
}

const size = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${n} bytes`)

/** Refuses a write that would grow the namespace past its quota; one that does not grow it always passes. */
function admit(ns: string, quota: KvQuota | undefined, now: Counters, addBytes: number, addKeys: number): void {
  if (!quota) return
  if (addKeys > 0 && now.keys + addKeys > quota.maxKeys) {
    throw new IsletError('ERR_CAPABILITY_QUOTA',
      `component '${ns}' kv quota reached: it holds ${now.keys} keys of ${quota.maxKeys} (maxKeys); delete keys, or raise grants.kv.maxKeys in the app's config`,
      { details: { capability: 'kv', quota: 'maxKeys', used: now.keys, limit: quota.maxKeys } })
  }
  if (addBytes > 0 && now.bytes + addBytes > quota.maxBytes) {
    throw new IsletError('ERR_CAPABILITY_QUOTA',
      `component '${ns}' kv quota reached: this write needs ${addBytes} more bytes, ${size(now.bytes)} of ${size(quota.maxBytes)} (maxBytes) are used; delete keys, or raise grants.kv.maxBytes in the app's config`,
      { details: { capability: 'kv', quota: 'maxBytes', used: now.bytes, limit: quota.maxBytes, requested: addBytes } })
  }
}

export function createNamespace(b: Backend, ns: string, quota: KvQuota | undefined): KvNamespace {
  /** Writes `text` under `key` (replacing `old`), counted against the quota; the new version. */
  const put = (key: string, text: string, old: Row | undefined): number => {
    const now = b.counters(ns)
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(text)
    admit(ns, quota, now, bytes - (old?.bytes ?? 0), old ? 0 : 1)
    const version = now.seq + 1
    b.write(ns, key, text, version, { bytes: now.bytes + bytes - (old?.bytes ?? 0), keys: now.keys + (old ? 0 : 1), seq: version })
    return version
  }
  return {
    get(key) {
      const row = b.read(ns, checkKey(key))
      return row ? JSON.parse(row.text) : null
    },
    getEntry(key) {
      const row = b.read(ns, checkKey(key))
      return row ? { value: JSON.parse(row.text), version: row.version } : null
    },
    set(key, value, options) {
      const k = checkKey(key)
      const text = encode(value)
      const expected = expectedVersion(options)
      return b.atomically(() => {
        const old = b.read(ns, k)
        const actual = old?.version ?? 0
        if (expected !== undefined && expected !== actual) {
          throw conflict('version-mismatch', `kv.set(${shown(k)}): expected ${expected === 0 ? 'no value' : `version ${expected}`}, found ${actual === 0 ? 'none' : `version ${actual}`}; read it again with getEntry and retry`,
            { expected, actual })
        }
        return put(k, text, old)
      })
    },
    increment(key, by = 1) {
      const k = checkKey(key)
      if (typeof by !== 'number' || !Number.isFinite(by)) throw denied('kv-increment-invalid', 'kv.increment adds a finite number')
      return b.atomically(() => {
        const old = b.read(ns, k)
        const current: unknown = old ? JSON.parse(old.text) : 0
        if (typeof current !== 'number') {
          throw conflict('not-a-number', `kv.increment(${shown(k)}): the stored value is ${current === null ? 'null' : Array.isArray(current) ? 'an array' : `a ${typeof current}`}, not a number`)
        }
        const next = current + by
        if (!Number.isFinite(next)) throw conflict('overflow', `kv.increment(${shown(k)}): the result is not a finite number`)
        // A counter past 2^53 - 1 would silently stop counting (2^53 + 1 === 2^53): refused, the value left as it was.
        if (Number.isInteger(current) && Number.isInteger(by) && !Number.isSafeInteger(next)) {
          throw conflict('overflow', `kv.increment(${shown(k)}): the result is past ${Number.MAX_SAFE_INTEGER}, where integers lose precision`)
        }
        put(k, encode(next), old)
        return next
      })
    },
    delete(key) {
      const k = checkKey(key)
      return b.atomically(() => {
        const old = b.read(ns, k)
        if (!old) return false
        const now = b.counters(ns)
        b.remove(ns, k, { bytes: now.bytes - old.bytes, keys: now.keys - 1, seq: now.seq })
        return true
      })
    },
    list(prefix, limit) {
      const [p, n] = listArgs(prefix, limit)
      return b.list(ns, p, n)
    },
  }
}

/**
 * The least string greater than every string starting with `prefix`, in code point order (= UTF-8 byte order, how
 * SQLite's BINARY collation compares): the prefix with its last code point bumped, trailing U+10FFFF dropped first.
 * Undefined when there is none (an empty prefix, or only U+10FFFF): the range is then open above.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix]
  while (points.length > 0 && points.at(-1) === '\u{10FFFF}') points.pop()
  const last = points.pop()
  if (last === undefined) return undefined
  const next = last.codePointAt(0)! + 1
  // Surrogate code points are not characters: after U+D7FF comes U+E000.
  return points.join('') + String.fromCodePoint(next === 0xd800 ? 0xe000 : next)
}

/** A throwaway store: each namespace's keys mapped to their JSON text and version. */
export type KvSnapshot = ReadonlyMap<string, ReadonlyMap<string, { text: string; version: number }>>

export interface ScratchKvStore extends KvStore {
  /** A copy of everything stored now, to start another scratch store from. */
  snapshot(): KvSnapshot
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

/**
 * A kv store in memory for examples (the smoke test of a reload, `islet component test`): the same key, value,
 * quota and version rules as the real one, never written anywhere, gone when dropped. `seed` is where it starts.
 */
export function createScratchKvStore(seed: KvSnapshot = new Map()): ScratchKvStore {
  const spaces = new Map([...seed].map(([ns, entries]) => [ns, new Map(entries)]))
  const counts = new Map<string, Counters>()
  for (const [ns, entries] of spaces) {
    const c: Counters = { bytes: 0, keys: 0, seq: 0 }
    for (const [key, row] of entries) {
      c.bytes += Buffer.byteLength(key) + Buffer.byteLength(row.text)
      c.keys++
      c.seq = Math.max(c.seq, row.version)
    }
    counts.set(ns, c)
  }
  const space = (ns: string) => spaces.get(ns) ?? spaces.set(ns, new Map()).get(ns)!
  const backend: Backend = {
    read(ns, key) {
      const row = spaces.get(ns)?.get(key)
      return row && { ...row, bytes: Buffer.byteLength(key) + Buffer.byteLength(row.text) }
    },
    counters: (ns) => ({ bytes: 0, keys: 0, seq: 0, ...counts.get(ns) }),
    write(ns, key, text, version, after) {
      space(ns).set(key, { text, version })
      counts.set(ns, after)
    },
    remove(ns, key, after) {
      spaces.get(ns)?.delete(key)
      counts.set(ns, after)
    },
    // Byte order, as SQLite's BINARY collation sorts the real store's keys.
    list: (ns, prefix, limit) => [...(spaces.get(ns)?.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort(utf8Order).slice(0, limit),
    // Single-threaded and synchronous: nothing can interleave.
    atomically: (fn) => fn(),
  }
  return {
    namespace: (ns, quota) => createNamespace(backend, ns, quota),
    usage(ns) {
      const { bytes, keys } = backend.counters(ns)
      return { bytes, keys }
    },
    snapshot: () => new Map([...spaces].map(([ns, entries]) => [ns, new Map(entries)])),
    close() {},
  }
}
