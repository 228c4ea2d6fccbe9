// A minimal Redis client (RESP2, one TCP connection, replies in order) in the shape of Bun's RedisClient, so that
// BullMQ adopts it through its own Bun adapter. Why: BullMQ 6 no longer ships a Redis driver (ioredis, node-redis and
// Bun's client are optional peers) and the benchmark adds no dependency. It writes each command at once (implicit
// pipelining, as ioredis does) and parses replies as they arrive; bulk strings come back as UTF-8 text, errors as
// Error objects (rejected at the top level, in place inside an EXEC array), as Bun's client does.
import { connect as tcp, type Socket } from 'node:net'

type Reply = string | number | null | Error | Reply[]
type Arg = string | number | Buffer

interface Pending { resolve(value: Reply): void; reject(error: Error): void }

const CRLF = Buffer.from('\r\n')

/** RESP2 encoding of one command. */
function encode(command: string, args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length + 1}\r\n$${Buffer.byteLength(command)}\r\n${command}\r\n`)]
  for (const arg of args) {
    const b = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg))
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF)
  }
  return Buffer.concat(parts)
}

/** One reply from `buf` at `at`, or undefined when it has not all arrived yet. */
function parse(buf: Buffer, at: number): { value: Reply; next: number } | undefined {
  const eol = buf.indexOf(CRLF, at)
  if (eol < 0) return undefined
  const line = buf.toString('utf8', at + 1, eol)
  switch (buf[at]) {
    case 0x2b: return { value: line, next: eol + 2 } // +simple
    case 0x2d: return { value: new Error(line), next: eol + 2 } // -error
    case 0x3a: return { value: Number(line), next: eol + 2 } // :integer
    case 0x24: { // $bulk
      const n = Number(line)
      if (n < 0) return { value: null, next: eol + 2 }
      if (buf.length < eol + 2 + n + 2) return undefined
      return { value: buf.toString('utf8', eol + 2, eol + 2 + n), next: eol + 2 + n + 2 }
    }
    case 0x2a: { // *array
      const n = Number(line)
      if (n < 0) return { value: null, next: eol + 2 }
      const items: Reply[] = []
      let next = eol + 2
      for (let i = 0; i < n; i++) {
        const item = parse(buf, next)
        if (!item) return undefined
        items.push(item.value)
        next = item.next
      }
      return { value: items, next }
    }
    default: throw new Error(`unexpected RESP type byte ${buf[at]}`)
  }
}

export class RespClient {
  connected = false
  onconnect: (() => void) | undefined
  onclose: ((error?: Error) => void) | undefined
  onerror: ((error: Error) => void) | undefined
  readonly host: string
  readonly port: number
  private socket: Socket | undefined
  private readonly pending: Pending[] = []
  private buffer: Buffer = Buffer.alloc(0)
  private opening: Promise<void> | undefined

  constructor(options: { host: string; port: number }) {
    this.host = options.host
    this.port = options.port
  }

  connect(): Promise<void> {
    if (this.opening) return this.opening
    this.opening = new Promise((resolve, reject) => {
      const socket = tcp({ host: this.host, port: this.port, noDelay: true })
      this.socket = socket
      socket.once('connect', () => { this.connected = true; this.onconnect?.(); resolve() })
      socket.on('data', (chunk: Buffer) => this.read(chunk))
      socket.on('error', (error) => { reject(error); this.onerror?.(error) })
      socket.once('close', () => {
        const wasOpen = this.connected
        this.connected = false
        const error = new Error('Connection closed')
        for (const p of this.pending.splice(0)) p.reject(error)
        if (wasOpen) this.onclose?.()
      })
    })
    return this.opening
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    let at = 0
    for (;;) {
      if (at >= this.buffer.length) break
      const reply = parse(this.buffer, at)
      if (!reply) break
      at = reply.next
      const p = this.pending.shift()
      if (!p) continue
      if (reply.value instanceof Error) p.reject(reply.value)
      else p.resolve(reply.value)
    }
    this.buffer = at >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(at)
  }

  /** Writes the command now (callers rely on MULTI … EXEC leaving in one burst) and resolves with its reply. */
  send(command: string, args: readonly Arg[]): Promise<Reply> {
    if (!this.socket || this.socket.destroyed) return Promise.reject(new Error('Connection closed'))
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject })
      this.socket!.write(encode(command, args))
    })
  }

  close(): void {
    this.socket?.destroy()
  }

  disconnect(): void {
    this.close()
  }

  /** A new, unconnected client to the same server (BullMQ's blocking connection). */
  async duplicate(): Promise<RespClient> {
    return new RespClient({ host: this.host, port: this.port })
  }
}
