// The one event bus: asynchronous delivery by pattern, handlers that fail never reach the publisher, and the
// engine's islet.* topics published by the engine alone.
import { describe, expect, it } from 'vitest'
import type { Logger } from '@islet/sdk'
import { silentLogger } from '../log/logger.ts'
import { createEventBus, ENGINE_SOURCE, publishEngineEvent, type EngineEvent } from './bus.ts'

const at = new Date(0).toISOString()
const event = (topic: string, source = 'module:test'): EngineEvent => ({ topic, payload: { n: 1 }, source, at })
const settled = () => new Promise((resolve) => setImmediate(resolve))

describe('event bus', () => {
  it('delivers by pattern, after the publisher returns, and stops at the undo', async () => {
    const bus = createEventBus()
    const seen: string[] = []
    const undo = bus.subscribe('orders.*', (e) => { seen.push(e.topic) })
    bus.publish(event('orders.created'))
    bus.publish(event('payments.made'))
    expect(seen).toEqual([])
    await settled()
    expect(seen).toEqual(['orders.created'])
    undo()
    bus.publish(event('orders.cancelled'))
    await settled()
    expect(seen).toEqual(['orders.created'])
  })

  it('no event reaches a handler after its undo, even one published before it (a module stopped, a once-handler)', async () => {
    const bus = createEventBus()
    const seen: string[] = []
    const undo = bus.subscribe('orders.*', (e) => { seen.push(e.topic); undo() })
    bus.publish(event('orders.created'))
    bus.publish(event('orders.paid'))
    await settled()
    expect(seen).toEqual(['orders.created'])
    const stopped: string[] = []
    const end = bus.subscribe('orders.*', (e) => { stopped.push(e.topic) })
    bus.publish(event('orders.shipped'))
    end() // the subscriber's module stops before delivery: its handler must not run on a stopped module
    await settled()
    expect(stopped).toEqual([])
  })

  it('a handler that throws or rejects is logged; the publisher and the other handlers carry on', async () => {
    const warnings: string[] = []
    const logger = { ...silentLogger(), warn: (_fields: unknown, message: string) => { warnings.push(message) } } as unknown as Logger
    const bus = createEventBus({ logger })
    let heard = 0
    bus.subscribe('orders.*', () => { throw new Error('boom') })
    bus.subscribe('orders.*', async () => { throw new Error('async boom') })
    bus.subscribe('orders.*', () => { heard++ })
    expect(() => bus.publish(event('orders.created'))).not.toThrow()
    await settled()
    expect(heard).toBe(1)
    expect(warnings).toEqual(["an event handler subscribed to 'orders.*' failed", "an event handler subscribed to 'orders.*' failed"])
  })

  it("refuses islet.* from anyone but the engine, and a pattern outside the grammar", async () => {
    const bus = createEventBus()
    expect(() => bus.publish(event('islet.config.reloaded', 'module:forger'))).toThrow(expect.objectContaining({ code: 'ERR_EVENT_TOPIC_RESERVED' }))
    expect(() => bus.subscribe('orders.#', () => {})).toThrow(expect.objectContaining({ code: 'ERR_EVENT_TOPIC_INVALID' }))
    const seen: unknown[] = []
    bus.subscribe('islet.*', (e) => { seen.push(e) })
    publishEngineEvent(bus, { type: 'config.reloaded', at })
    await settled()
    expect(seen).toEqual([{ topic: 'islet.config.reloaded', payload: { type: 'config.reloaded', at }, source: ENGINE_SOURCE, at }])
  })
})
