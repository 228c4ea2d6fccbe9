// The SSE body: a stream the server destroys when the client goes away must release its subscription at once,
// even while it waits for the next event (an async generator there would wait for that event first).
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { until } from '../../test/support/until.ts'
import { EventStream } from './event-stream.ts'

describe('EventStream', () => {
  it('ends (running its cleanup once) when the response stream reading it is destroyed while it waits', async () => {
    let ended = 0
    const stream = new EventStream(() => { ended++ })
    stream.push(': connected\n\n')
    const body = Readable.from(stream, { objectMode: false })
    const first = await new Promise((resolve) => body.once('data', (chunk) => resolve(String(chunk))))
    expect(first).toBe(': connected\n\n')
    body.pause()
    body.destroy() // what Koa does when the client closes the connection
    await until(() => ended === 1)
    stream.push('event: late\n\n')
    stream.end()
    expect(ended).toBe(1)
  })

  it('delivers what was pushed before end(), then finishes', async () => {
    const stream = new EventStream(() => {})
    stream.push('a')
    stream.push('b')
    stream.end()
    const chunks: string[] = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks).toEqual(['a', 'b'])
  })
})
