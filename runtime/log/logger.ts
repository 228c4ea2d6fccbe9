// Structured JSON logs (pino); a readable pretty mode when stdout is a terminal; LOG_LEVEL honoured.
import { createRequire } from 'node:module'
import { pino, type Logger as PinoLogger } from 'pino'
import type { PrettyStream } from 'pino-pretty'
import type { Logger } from '@islet/sdk'

export interface LoggerOptions {
  /** `trace`…`fatal` or `silent`; defaults to LOG_LEVEL, then `info`. */
  level?: string
  /** Human-readable lines instead of JSON; defaults to whether stdout is a terminal. */
  pretty?: boolean
  /** Where lines go; defaults to stdout. Tests pass a collecting stream. */
  destination?: NodeJS.WritableStream
  /**
   * Drop the records that announce an engine event (they carry `eventType`): `islet dev` prints each event as its
   * own line, and the log would say it a second time.
   */
  quietEvents?: boolean
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])

export function createLogger(options: LoggerOptions = {}): PinoLogger & Logger {
  const requested = options.level ?? process.env.LOG_LEVEL ?? 'info'
  const level = LEVELS.has(requested) ? requested : 'info'
  const base: pino.LoggerOptions = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }
  if (options.quietEvents) {
    base.hooks = {
      logMethod(args, method) {
        const first: unknown = args[0]
        if (typeof first === 'object' && first !== null && 'eventType' in first) return
        method.apply(this, args)
      },
    }
  }
  const isPretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true)
  // pino-pretty as an in-process stream (not a worker transport): simpler to shut down and fine for a terminal.
  const stream = isPretty
    ? loadPretty()({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination: options.destination })
    : (options.destination ?? pino.destination({ sync: false }))
  const logger = pino(base, stream as pino.DestinationStream)
  if (!LEVELS.has(requested)) logger.warn({ LOG_LEVEL: requested }, `unknown LOG_LEVEL; using 'info' (one of ${[...LEVELS].join(', ')})`)
  return logger
}

/** pino-pretty, loaded only for a terminal: it is most of the logger's start-up cost. */
function loadPretty(): (options: object) => PrettyStream {
  return createRequire(import.meta.url)('pino-pretty') as (options: object) => PrettyStream
}

/** A logger that drops everything; for tests and tools that print their own output. */
export function silentLogger(): PinoLogger & Logger {
  return pino({ level: 'silent' })
}
