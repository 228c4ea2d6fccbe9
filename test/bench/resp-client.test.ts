// The benchmark's Redis client against a loopback stand-in that answers byte by byte: replies split anywhere must
// come back whole, in order, typed as BullMQ's Bun adapter expects; what it writes must be valid RESP.
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { RespClient } from './resp-client.ts'

let server: Server | undefined
let client: RespClient | undefined

afterEach(async () => {
  client?.close()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

/** A server that records what it receives and answers each command, when it has arrived whole, with `replies[n]`. */
async function standIn(replies: string[]): Promise<{ port: number; received: () => Buffer }> {
  let received = Buffer.alloc(0)
  let answered = 0
  server = createServer((socket: Socket) => {
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      // One reply per complete command seen so far (a command starts with '*'); sent one byte per write.
      const commands = received.toString('latin1').split(/(?:^|\r\n)\*(?=\d+\r\n\$)/).length - 1
      for (; answered < commands && answered < replies.length; answered++) {
        for (const byte of Buffer.from(replies[answered])) socket.write(Buffer.from([byte]))
      }
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { port: typeof address === 'object' && address ? address.port : 0, received: () => received }
}

describe('RespClient', () => {
  it('reads replies split into single bytes, in order, each with its type', async () => {
    const { port } = await standIn([
      '+PONG\r\n',
      ':42\r\n',
      '$9\r\nnaïve\r\nx\r\n', // a bulk string holding CRLF and a 2-byte character
      '$-1\r\n',
      '*3\r\n$1\r\na\r\n*1\r\n:1\r\n-ERR inside\r\n', // nested array, an error in place (EXEC's results)
      '-NOSCRIPT No matching script\r\n',
    ])
    client = new RespClient({ host: '127.0.0.1', port })
    await client.connect()
    const replies = [
      client.send('PING', []), client.send('INCR', ['k']), client.send('GET', ['s']), client.send('GET', ['none']),
      client.send('EXEC', []), client.send('EVALSHA', ['abc', 0]).catch((e: Error) => e),
    ]
    const [pong, n, bulk, none, exec, error] = await Promise.all(replies)
    expect([pong, n, bulk, none]).toEqual(['PONG', 42, 'naïve\r\nx', null])
    expect((exec as unknown[]).slice(0, 2)).toEqual(['a', [1]])
    expect((exec as unknown[])[2]).toBeInstanceOf(Error)
    expect(((exec as unknown[])[2] as Error).message).toBe('ERR inside')
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/^NOSCRIPT/)
  })

  it('writes commands as RESP arrays of bulk strings, Buffers byte for byte', async () => {
    const { port, received } = await standIn(['+OK\r\n'])
    client = new RespClient({ host: '127.0.0.1', port })
    await client.connect()
    await client.send('HSET', ['h', 'é', Buffer.from([0, 13, 10, 255]), 7])
    expect(received()).toEqual(Buffer.concat([
      Buffer.from('*5\r\n$4\r\nHSET\r\n$1\r\nh\r\n$2\r\né\r\n$4\r\n'), Buffer.from([0, 13, 10, 255]), Buffer.from('\r\n$1\r\n7\r\n'),
    ]))
  })

  it('rejects what is still waiting when the connection drops, and says it is closed', async () => {
    const { port } = await standIn([])
    client = new RespClient({ host: '127.0.0.1', port })
    await client.connect()
    let closed = false
    client.onclose = () => { closed = true }
    const waiting = client.send('BZPOPMIN', ['q', 5])
    client.close()
    await expect(waiting).rejects.toThrow('Connection closed')
    expect(closed).toBe(true)
    expect(client.connected).toBe(false)
  })
})
