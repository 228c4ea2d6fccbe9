// Per-component log limiting inside the worker: a token bucket on lines, caps on line size, batched to the engine.

/** One log line a component wrote, as it crosses from the worker to the engine. */
export interface GuestLogLineDto {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  /** JSON text of an object, or undefined. */
  fields?: string
}

/** Characters of a log message kept; the isolate cuts there before copying (guest-bootstrap.ts), and so does this. */
export const LOG_MESSAGE_CHARS = 2_000
/** Characters of a line's fields, as JSON text. */
export const LOG_FIELDS_CHARS = 4_096
const MAX_MESSAGE = LOG_MESSAGE_CHARS
const MAX_FIELDS = LOG_FIELDS_CHARS
/** What the isolate appends to a message it cut ("… (268435456 chars)"): such a message is not cut again. */
const CUT_SUFFIX = 32
const LEVELS = new Set(['debug', 'info', 'warn', 'error'])

export interface LogGate {
  write(level: unknown, message: unknown, fields: unknown): void
  /** Sends what is pending now (before an invocation's result, so its lines arrive first). */
  flush(): void
}

export interface LogGateOptions {
  /** Lines allowed in a burst. */
  burst: number
  /** Lines per second refilled. */
  perSecond: number
  flush(lines: GuestLogLineDto[], dropped: number): void
}

export function createLogGate(options: LogGateOptions): LogGate {
  let tokens = options.burst
  let refilledAt = performance.now()
  let lines: GuestLogLineDto[] = []
  let dropped = 0
  let scheduled = false
  const flush = () => {
    scheduled = false
    const batch = lines
    lines = []
    const d = dropped
    dropped = 0
    if (batch.length > 0 || d > 0) options.flush(batch, d)
  }
  return {
    write(level, message, fields) {
      const now = performance.now()
      tokens = Math.min(options.burst, tokens + ((now - refilledAt) / 1000) * options.perSecond)
      refilledAt = now
      if (tokens < 1) { dropped++ } else {
        tokens -= 1
        const text = typeof message === 'string' ? message : String(message)
        lines.push({
          level: LEVELS.has(level as string) ? (level as GuestLogLineDto['level']) : 'info',
          message: text.length > MAX_MESSAGE + CUT_SUFFIX ? `${text.slice(0, MAX_MESSAGE)}… (${text.length} chars)` : text,
          fields: typeof fields === 'string' ? (fields.length > MAX_FIELDS ? '{"truncated":true}' : fields) : undefined,
        })
      }
      if (!scheduled) { scheduled = true; setImmediate(flush) }
    },
    flush,
  }
}
