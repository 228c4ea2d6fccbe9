// ctx.kv as a component sees it, through a real isolate and host: increment, compare-and-set under concurrent calls,
// the conflict codes a component can catch, and list over keys beyond the BMP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { component, startHostile, type HostileHost } from './hostile/support.ts'

const KV = component(`  async execute(input: any, ctx: any) {
    switch (input.op) {
      case 'append': {
        // The compare-and-set loop the README shows: re-read and retry on a conflict.
        for (let tries = 1; ; tries++) {
          const entry = await ctx.kv.getEntry(input.key)
          const list = entry ? entry.value : []
          try {
            await ctx.kv.set(input.key, [...list, input.item], { ifVersion: entry?.version })
            return { tries }
          } catch (e: any) {
            if (e.code !== 'ERR_CAPABILITY_CONFLICT') throw e
          }
        }
      }
      case 'create': {
        const entry = await ctx.kv.getEntry(input.key)
        const version = await ctx.kv.set(input.key, input.value, { ifVersion: entry?.version })
        return { version, frozen: Object.isFrozen(await ctx.kv.getEntry(input.key)) }
      }
      case 'create-blind': return { version: await ctx.kv.set(input.key, input.value, { ifVersion: undefined }) }
      case 'increment': return { value: await ctx.kv.increment(input.key, input.by) }
      case 'get': return { value: await ctx.kv.get(input.key) }
      case 'set': return { version: await ctx.kv.set(input.key, input.value) }
      case 'list': {
        for (const k of input.keys) await ctx.kv.set(k, 1)
        return { keys: await ctx.kv.list(input.prefix) }
      }
    }
    return {}
  },`, '', 'store')

let h: HostileHost
beforeAll(async () => {
  h = await startHostile({ store: { source: KV, grants: { kv: true } } })
})
afterAll(() => h?.stop())

describe('ctx.kv', () => {
  it('compare-and-set: 20 concurrent appends all land, the losers of each race retrying', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, item) => h.invoke('store', { op: 'append', key: 'list', item })))
    const { value } = await h.invoke('store', { op: 'get', key: 'list' }) as { value: number[] }
    expect([...value].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    const notANumber = await h.failure('store', { op: 'increment', key: 'list' })
    expect(notANumber.code).toBe('ERR_CAPABILITY_CONFLICT')
    expect(notANumber.message).toContain('an array, not a number')
  })

  it('{ ifVersion: entry?.version } for a missing entry means "must not exist", so a second create conflicts', async () => {
    const first = await h.invoke('store', { op: 'create', key: 'once', value: 'a' }) as { version: number; frozen: boolean }
    expect(first.version).toBeGreaterThan(0)
    expect(first.frozen).toBe(true)
    expect((await h.failure('store', { op: 'create-blind', key: 'once', value: 'b' })).code).toBe('ERR_CAPABILITY_CONFLICT')
    const next = await h.invoke('store', { op: 'set', key: 'once', value: 'c' }) as { version: number }
    expect(next.version).toBeGreaterThan(first.version)
  })

  it('increments concurrently without losing one', async () => {
    await Promise.all(Array.from({ length: 50 }, () => h.invoke('store', { op: 'increment', key: 'hits' })))
    expect(await h.invoke('store', { op: 'increment', key: 'hits', by: 0 })).toEqual({ value: 50 })
  })

  it('lists keys whose next character after the prefix is beyond U+FFFF', async () => {
    const keys = ['p\uffff', 'p😀', 'p\u{10FFFF}x', 'pa', 'q']
    expect(await h.invoke('store', { op: 'list', keys, prefix: 'p' })).toEqual({ keys: ['pa', 'p\uffff', 'p😀', 'p\u{10FFFF}x'] })
  })
})
