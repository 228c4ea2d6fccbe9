// Hostile use of kv storage: a component filling the store with 64 KiB values (or with tiny keys) as fast as it can,
// alone and from many concurrent calls. Its quota stops it at the configured bound with ERR_CAPABILITY_QUOTA, the
// database file on disk stays near that bound, and a bystander's kv keeps working throughout.
import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { component, startHostile, type HostileHost } from './support.ts'

const MiB = 1024 * 1024
const QUOTA = { maxBytes: MiB, maxKeys: 10_000 }
/** As the attacker did: 95 writes of 64 KiB per call (each value just under the 64 KiB value cap). */
const WRITES_PER_CALL = 95
const VALUE_CHARS = 65_000

const FILLER = component(`  async execute(input: any, ctx: any) {
    const value = 'x'.repeat(${VALUE_CHARS})
    let written = 0, refused = 0
    const codes: string[] = []
    if (input.recycle) {
      await ctx.kv.delete(input.recycle)
      await ctx.kv.set(input.recycle + ':again', value)
      return { written: 1, refused, codes }
    }
    for (let i = 0; i < ${WRITES_PER_CALL}; i++) {
      // swallow: a hostile component that ignores every refusal and keeps going.
      if (!input.swallow) { await ctx.kv.set('f:' + input.round + ':' + i, value); written++; continue }
      try { await ctx.kv.set('f:' + input.round + ':' + i, value); written++ } catch (e: any) { refused++; if (!codes.includes(e.code)) codes.push(e.code) }
    }
    return { written, refused, codes }
  },`, '', 'filler')

const DUST = component(`  async execute(input: any, ctx: any) {
    let written = 0, refused = 0
    for (let i = 0; i < 1000; i++) {
      try { await ctx.kv.set('d' + input.round + ':' + i, 1); written++ } catch (e: any) { if (e.code === 'ERR_CAPABILITY_QUOTA') refused++; else throw e }
    }
    return { written, refused }
  },`, '', 'dust')

const BYSTANDER = component(`  async execute(input: any, ctx: any) {
    const count = await ctx.kv.increment('calls')
    await ctx.kv.set('note:' + input.n, { n: input.n, text: 'hello' })
    const note = await ctx.kv.get('note:' + input.n)
    return { count, note }
  },`, '', 'bystander')

let h: HostileHost
beforeAll(async () => {
  h = await startHostile({
    filler: { source: FILLER, grants: { kv: QUOTA } },
    dust: { source: DUST, grants: { kv: { maxBytes: MiB, maxKeys: 200 } } },
    bystander: { source: BYSTANDER, grants: { kv: true } },
  })
})
afterAll(() => h?.stop())

const usage = (name: string) => h.host.status().find((c) => c.name === name)!.kv!

/** The kv file and its WAL on disk, after a checkpoint that truncates the WAL (from a connection of the test's own). */
function storeBytes(): number {
  const file = join(h.dataDir, 'islet-kv.db')
  const db = new Database(file)
  try {
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
  const size = (f: string) => { try { return statSync(f).size } catch { return 0 } }
  return size(file) + size(`${file}-wal`)
}

describe('kv quota against a component filling the store', () => {
  it('64 KiB writes in a loop stop with ERR_CAPABILITY_QUOTA at the configured bound, nothing past it written', async () => {
    const error = await h.failure('filler', { round: 0 })
    expect(error.code).toBe('ERR_CAPABILITY_QUOTA')
    expect(error.message).toContain('maxBytes')
    expect(error.message.length).toBeLessThan(400) // says what and how to fix it; never echoes the value
    const perKey = 'f:0:00'.length + VALUE_CHARS + 2
    const fits = Math.floor(QUOTA.maxBytes / perKey)
    expect(usage('filler')).toEqual({ bytes: expect.any(Number), keys: fits, ...QUOTA })
    expect(usage('filler').bytes).toBeLessThanOrEqual(QUOTA.maxBytes)
    expect(usage('filler').bytes).toBeGreaterThan(QUOTA.maxBytes - perKey)
  })

  it('ten concurrent calls ignoring every refusal cannot push it past the bound; the file stays bounded; a bystander is served', async () => {
    const attack = Promise.all(Array.from({ length: 10 }, (_, round) => h.invoke('filler', { round: round + 1, swallow: true })))
    const bystander = Promise.allSettled(Array.from({ length: 20 }, (_, n) => h.invoke('bystander', { n })))
    const results = await attack as { written: number; refused: number; codes: string[] }[]
    const served = await bystander
    const ok = served.filter((r) => r.status === 'fulfilled').length
    console.log(`kv-quota: bystander success during the fill attack: ${ok}/${served.length} (${Math.round((ok / served.length) * 100)}%)`)
    expect(ok).toBe(served.length)
    expect(results.reduce((n, r) => n + r.written, 0)).toBe(0) // the quota was already full
    expect(results.reduce((n, r) => n + r.refused, 0)).toBe(10 * WRITES_PER_CALL)
    expect(new Set(results.flatMap((r) => r.codes))).toEqual(new Set(['ERR_CAPABILITY_QUOTA']))
    expect(usage('filler').bytes).toBeLessThanOrEqual(QUOTA.maxBytes)
    // ~60 MiB attempted; what is on disk is the quota plus SQLite's own pages (generous: 6 MiB for a 1 MiB quota).
    const bytes = storeBytes()
    console.log(`kv-quota: store on disk after the attack: ${(bytes / MiB).toFixed(2)} MiB for a ${QUOTA.maxBytes / MiB} MiB quota`)
    expect(bytes).toBeLessThan(6 * MiB)
    expect(await h.invoke('bystander', { n: 99 })).toEqual({ count: 21, note: { n: 99, text: 'hello' } })
    await h.expectCanary()
  })

  it('a delete frees room for a write of the same size', async () => {
    expect(await h.invoke('filler', { recycle: 'f:0:0' })).toMatchObject({ written: 1 })
    expect(usage('filler').bytes).toBeLessThanOrEqual(QUOTA.maxBytes)
  })

  it('tiny keys stop at maxKeys', async () => {
    expect(await h.invoke('dust', { round: 0 })).toEqual({ written: 200, refused: 800 })
    expect(await h.invoke('dust', { round: 1 })).toEqual({ written: 0, refused: 1000 })
    expect(usage('dust')).toMatchObject({ keys: 200, maxKeys: 200 })
    expect((await h.invoke('bystander', { n: 100 }) as { count: number }).count).toBe(22)
  })
})
