// The kv rules, run against both stores: the SQLite file the app uses and the scratch store examples use must agree.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { IsletError } from '../../../errors.ts'
import { createScratchKvStore, prefixEnd, type KvStore } from './kv.ts'
import { openKvStore } from './kv-sqlite.ts'

const dir = mkdtempSync(join(tmpdir(), 'islet-kv-'))
const opened: KvStore[] = []
afterAll(() => {
  for (const s of opened) s.close()
  rmSync(dir, { recursive: true, force: true })
})
let files = 0
const sqlite = () => {
  const s = openKvStore(join(dir, `kv-${++files}.db`), { app: 'test' })
  opened.push(s)
  return s
}

function thrown(fn: () => unknown): IsletError {
  try {
    fn()
  } catch (error) {
    if (error instanceof IsletError) return error
    throw error
  }
  throw new Error('expected an IsletError')
}

/** Keys whose next character after the prefix is at either end of the BMP, beyond it, or at the very last one. */
const TRICKY = ['a', 'ab', 'a\uffff', 'a😀', 'a\u{10FFFF}x', 'a\u{10FFFF}', 'a\u{10FFFF}\u{10FFFF}', 'b', '`', 'a\ud7ff', 'a\ue000',
  '😀', '😀a', '😁', '\u{10FFFF}', '\u{10FFFF}z', 'ä', 'äx', 'a%', 'a_']
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

describe.each([['sqlite', sqlite], ['scratch', () => createScratchKvStore()]] as const)('kv (%s store)', (_, open) => {
  it('lists every key with the prefix, in UTF-8 byte order, whatever character follows the prefix', () => {
    const ns = open().namespace('c')
    for (const k of TRICKY) ns.set(k, 1)
    expect(ns.list('a', 100)).toEqual(['a', 'a%', 'a_', 'ab', 'a\ud7ff', 'a\ue000', 'a\uffff', 'a😀', 'a\u{10FFFF}', 'a\u{10FFFF}x', 'a\u{10FFFF}\u{10FFFF}'])
    expect(ns.list('a\u{10FFFF}', 100)).toEqual(['a\u{10FFFF}', 'a\u{10FFFF}x', 'a\u{10FFFF}\u{10FFFF}'])
    expect(ns.list('a\ud7ff', 100)).toEqual(['a\ud7ff'])
    expect(ns.list('😀', 100)).toEqual(['😀', '😀a'])
    expect(ns.list('\u{10FFFF}', 100)).toEqual(['\u{10FFFF}', '\u{10FFFF}z'])
    for (const prefix of ['', ...TRICKY]) {
      expect(ns.list(prefix, 1000)).toEqual(TRICKY.filter((k) => k.startsWith(prefix)).sort(byteOrder))
    }
    expect(thrown(() => ns.list('a\ud83d', 10)).code).toBe('ERR_CAPABILITY_DENIED')
    expect(thrown(() => ns.set('a\ud83d', 1)).details.reason).toBe('kv-key-invalid')
  })

  it('refuses a write past the byte quota, writing nothing; a replacing write counts the difference; a delete frees', () => {
    const store = open()
    const ns = store.namespace('c', { maxBytes: 100, maxKeys: 100 })
    ns.set('a', 'x'.repeat(47)) // 1 + 49 bytes
    ns.set('b', 'y'.repeat(47)) // 100 of 100
    expect(store.usage('c')).toEqual({ bytes: 100, keys: 2 })
    const error = thrown(() => ns.set('c', 1))
    expect(error.code).toBe('ERR_CAPABILITY_QUOTA')
    expect(error.details).toMatchObject({ capability: 'kv', quota: 'maxBytes', used: 100, limit: 100 })
    expect(ns.get('c')).toBeNull()
    expect(thrown(() => ns.set('a', 'x'.repeat(48))).code).toBe('ERR_CAPABILITY_QUOTA')
    expect(ns.get('a')).toBe('x'.repeat(47))
    expect(thrown(() => ns.increment('n')).code).toBe('ERR_CAPABILITY_QUOTA')
    expect(store.usage('c')).toEqual({ bytes: 100, keys: 2 })
    ns.set('a', 'z'.repeat(47)) // same size: no growth
    ns.set('a', 'short') // shrinks by 42
    expect(store.usage('c')).toEqual({ bytes: 58, keys: 2 })
    ns.set('c', 'w'.repeat(39)) // 1 + 41: 100 again
    expect(thrown(() => ns.set('d', 1)).code).toBe('ERR_CAPABILITY_QUOTA')
    expect(ns.delete('b')).toBe(true)
    expect(store.usage('c')).toEqual({ bytes: 50, keys: 2 })
    ns.set('d', 1)
    // Another namespace has a quota of its own.
    store.namespace('other', { maxBytes: 100, maxKeys: 100 }).set('a', 'x'.repeat(90))
    expect(store.usage('other')).toEqual({ bytes: 93, keys: 1 })
  })

  it('refuses a new key past the key quota; replacing an existing key is fine', () => {
    const store = open()
    const ns = store.namespace('c', { maxBytes: 10_000, maxKeys: 2 })
    ns.set('a', 1)
    ns.set('b', 1)
    const error = thrown(() => ns.set('c', 1))
    expect(error.code).toBe('ERR_CAPABILITY_QUOTA')
    expect(error.details).toMatchObject({ quota: 'maxKeys', used: 2, limit: 2 })
    ns.set('a', 2)
    expect(ns.increment('b')).toBe(2)
    ns.delete('a')
    ns.set('c', 1)
    expect(ns.list('', 10)).toEqual(['b', 'c'])
  })

  it('increments atomically: a missing key counts as 0; a value that is not a number is a conflict, left as it was', () => {
    const ns = open().namespace('c')
    expect(ns.increment('n')).toBe(1)
    expect(ns.increment('n', 5)).toBe(6)
    expect(ns.increment('n', -0.5)).toBe(5.5)
    expect(ns.get('n')).toBe(5.5)
    ns.set('s', 'seven')
    const error = thrown(() => ns.increment('s'))
    expect(error.code).toBe('ERR_CAPABILITY_CONFLICT')
    expect(error.message).toContain('a string, not a number')
    expect(ns.get('s')).toBe('seven')
    expect(thrown(() => ns.increment('n', '1')).code).toBe('ERR_CAPABILITY_DENIED')
    expect(thrown(() => ns.increment('n', Number.NaN)).code).toBe('ERR_CAPABILITY_DENIED')
    ns.set('big', Number.MAX_VALUE)
    expect(thrown(() => ns.increment('big', Number.MAX_VALUE)).code).toBe('ERR_CAPABILITY_CONFLICT')
  })

  it('a counter that would pass 2^53 - 1 is a conflict, not a count that silently stops', () => {
    const ns = open().namespace('c')
    expect(ns.increment('n', Number.MAX_SAFE_INTEGER - 1)).toBe(Number.MAX_SAFE_INTEGER - 1)
    expect(ns.increment('n')).toBe(Number.MAX_SAFE_INTEGER)
    const error = thrown(() => ns.increment('n'))
    expect(error.code).toBe('ERR_CAPABILITY_CONFLICT')
    expect(error.message).toContain('lose precision')
    expect(ns.get('n')).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('compare-and-set: writes only at the expected version; 0 or null means the key must not exist', () => {
    const ns = open().namespace('c')
    expect(ns.getEntry('k')).toBeNull()
    const v1 = ns.set('k', 'first', { ifVersion: 0 })
    expect(ns.getEntry('k')).toEqual({ value: 'first', version: v1 })
    const again = thrown(() => ns.set('k', 'again', { ifVersion: null }))
    expect(again.code).toBe('ERR_CAPABILITY_CONFLICT')
    expect(again.details).toMatchObject({ expected: 0, actual: v1 })
    const v2 = ns.set('k', 'second', { ifVersion: v1 })
    expect(v2).toBeGreaterThan(v1)
    expect(thrown(() => ns.set('k', 'stale', { ifVersion: v1 })).code).toBe('ERR_CAPABILITY_CONFLICT')
    expect(ns.get('k')).toBe('second')
    // Deleted and written again: a new version, never v1 or v2 again (no ABA).
    ns.delete('k')
    expect(thrown(() => ns.set('k', 'gone', { ifVersion: v2 })).code).toBe('ERR_CAPABILITY_CONFLICT')
    const v3 = ns.set('k', 'third', { ifVersion: 0 })
    expect(v3).toBeGreaterThan(v2)
    expect(ns.set('k', 'plain', {})).toBeGreaterThan(v3)
    expect(thrown(() => ns.set('k', 1, { ifVersion: -1 })).code).toBe('ERR_CAPABILITY_DENIED')
    expect(thrown(() => ns.set('k', 1, 5)).code).toBe('ERR_CAPABILITY_DENIED')
  })
})

describe('kv (sqlite store) on disk', () => {
  it('keeps usage and versions across a reopen, and two stores on one file never overshoot a quota together', () => {
    const file = join(dir, 'shared.db')
    const a = openKvStore(file, { app: 'test' })
    const b = openKvStore(file, { app: 'test' })
    const quota = { maxBytes: 1_000, maxKeys: 1_000 }
    const refused: string[] = []
    for (let i = 0; i < 40; i++) {
      try {
        ;(i % 2 ? a : b).namespace('c', quota).set(`k${i}`, 'v'.repeat(40))
      } catch (error) {
        refused.push((error as IsletError).code)
      }
    }
    expect(a.usage('c').bytes).toBeLessThanOrEqual(1_000)
    expect(refused.length).toBeGreaterThan(0)
    expect(new Set(refused)).toEqual(new Set(['ERR_CAPABILITY_QUOTA']))
    const usage = a.usage('c')
    const version = a.namespace('c').getEntry('k1')!.version
    a.close()
    b.close()
    const c = openKvStore(file, { app: 'test' })
    opened.push(c)
    expect(c.usage('c')).toEqual(usage)
    expect(c.namespace('c').getEntry('k1')!.version).toBe(version)
  })

  it('counts what a file of the earlier schema already holds', () => {
    const file = join(dir, 'old.db')
    const db = new Database(file)
    db.exec(`CREATE TABLE kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
      PRIMARY KEY (namespace, key)) WITHOUT ROWID`)
    const insert = db.prepare('INSERT INTO kv VALUES (?, ?, ?, ?)')
    insert.run('c', 'a😀', '"12345"', 'then')
    insert.run('c', 'b', '7', 'then')
    insert.run('d', 'x', 'true', 'then')
    db.close()
    const store = openKvStore(file, { app: 'test' })
    opened.push(store)
    expect(store.usage('c')).toEqual({ bytes: 5 + 7 + 1 + 1, keys: 2 })
    expect(store.usage('d')).toEqual({ bytes: 5, keys: 1 })
    const ns = store.namespace('c', { maxBytes: 20, maxKeys: 10 })
    expect(ns.increment('b')).toBe(8)
    expect(ns.getEntry('a😀')).toEqual({ value: '12345', version: 1 })
    expect(thrown(() => ns.set('e', 'xyzw')).code).toBe('ERR_CAPABILITY_QUOTA') // 14 + 1 + 6 > 20
  })
})

describe('kv (sqlite store) per app', () => {
  it('two apps on one file: same component name, separate keys, versions and quotas', () => {
    const file = join(dir, 'apps.db')
    const a = openKvStore(file, { app: '../a/app.yaml' })
    const b = openKvStore(file, { app: '../b/app.yaml' })
    opened.push(a, b)
    const quota = { maxBytes: 1_000, maxKeys: 2 }
    a.namespace('counter', quota).set('x', 1)
    a.namespace('counter', quota).set('y', 1)
    expect(thrown(() => a.namespace('counter', quota).set('z', 1)).code).toBe('ERR_CAPABILITY_QUOTA')
    // b's namespace of the same name is empty, and has its own room.
    expect(b.namespace('counter', quota).get('x')).toBeNull()
    expect(b.namespace('counter', quota).list('', 10)).toEqual([])
    b.namespace('counter', quota).set('x', 2)
    b.namespace('counter', quota).set('z', 2)
    expect(a.namespace('counter').get('x')).toBe(1)
    expect([a.usage('counter').keys, b.usage('counter').keys]).toEqual([2, 2])
  })

  it('rows from before kv was kept per app go, whole, to the first app that opens their namespace', () => {
    const file = join(dir, 'claim.db')
    const legacy = new Database(file)
    legacy.exec(`CREATE TABLE kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
      PRIMARY KEY (namespace, key)) WITHOUT ROWID;
      INSERT INTO kv VALUES ('c', 'k', '1', 'then'), ('c', 'l', '2', 'then'), ('d', 'k', '3', 'then');`)
    legacy.close()
    const claims: string[] = []
    const a = openKvStore(file, { app: 'a', onClaim: (ns, usage) => claims.push(`a:${ns}:${usage.keys}`) })
    const b = openKvStore(file, { app: 'b', onClaim: (ns, usage) => claims.push(`b:${ns}:${usage.keys}`) })
    opened.push(a, b)
    b.namespace('d').set('own', 1) // b opens 'd' first: it takes the old rows of 'd' over, then adds its own
    expect(a.namespace('c').list('', 10)).toEqual(['k', 'l'])
    expect(b.namespace('c').list('', 10)).toEqual([])
    expect(a.namespace('d').list('', 10)).toEqual([])
    expect(b.namespace('d').list('', 10)).toEqual(['k', 'own'])
    expect(claims).toEqual(['b:d:1', 'a:c:2'])
  })
})

describe('prefixEnd', () => {
  it('is the least string after every string with the prefix', () => {
    expect(prefixEnd('')).toBeUndefined()
    expect(prefixEnd('ab')).toBe('ac')
    expect(prefixEnd('a\uffff')).toBe('a\u{10000}')
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000')
    expect(prefixEnd('a😀')).toBe('a😁')
    expect(prefixEnd('a\u{10FFFF}')).toBe('b')
    expect(prefixEnd('\u{10FFFF}\u{10FFFF}')).toBeUndefined()
  })
})
