// A slot's log ring: the latest 1000 lines, sequence numbers that keep counting, `after` to continue, followers.
import { describe, expect, it } from 'vitest'
import type { SlotLogEntry } from '@islet/sdk'
import { createSlotLogs, RING_SIZE } from '../runtime/slots/logs.ts'

describe('slot logs', () => {
  it('keeps the latest 1000 lines per slot, numbered on, and reads after a seq', () => {
    const logs = createSlotLogs((name) => name === 'pricing', () => 1)
    for (let i = 1; i <= RING_SIZE + 200; i++) logs.add('pricing', { level: 'info', message: `line ${i}`, version: 1 })
    const all = logs.list('pricing', { limit: 5000 })
    expect(all).toHaveLength(RING_SIZE)
    expect(all[0]).toMatchObject({ seq: 201, message: 'line 201' })
    expect(all.at(-1)).toMatchObject({ seq: 1200, message: 'line 1200' })
    expect(logs.list('pricing', { after: 1195 }).map((l) => l.seq)).toEqual([1196, 1197, 1198, 1199, 1200])
    expect(logs.list('pricing', { limit: 2 }).map((l) => l.seq)).toEqual([1199, 1200])
    expect(logs.list('other')).toEqual([])
  })

  it("taps a host logger's guest lines of slot components only (not their examples' throwaway isolates), and follows them", () => {
    const logs = createSlotLogs((name) => name === 'pricing', (_slot, generation) => (generation === 4 ? 2 : 0))
    const written: string[] = []
    const base = {
      trace: () => {}, debug: () => {}, info: (_f: unknown, m?: string) => { written.push(m ?? '') }, warn: () => {}, error: () => {},
      child() { return base },
    }
    const seen: SlotLogEntry[] = []
    logs.follow('pricing', (e) => seen.push(e))
    const tapped = logs.tap(base)
    tapped.child({ component: 'pricing', generation: 4 }).info({ fields: { n: 1 } }, 'priced')
    tapped.child({ component: 'pricing', generation: 4, examples: true }).info({}, 'from an example')
    tapped.child({ component: 'quote', generation: 1 }).info({}, 'not a slot')
    expect(written).toEqual(['priced', 'from an example', 'not a slot'])
    expect(logs.list('pricing')).toEqual([expect.objectContaining({ seq: 1, level: 'info', message: 'priced', version: 2, fields: { n: 1 } })])
    expect(seen.map((e) => e.message)).toEqual(['priced'])
  })
})
