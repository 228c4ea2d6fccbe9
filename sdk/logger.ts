// The structured logger every module, step and component receives: a pino-compatible subset, no Node types.

/** Fields attached to a log line; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>

export interface LogFn {
  (message: string): void
  (fields: LogFields, message?: string): void
}

/**
 * A structured logger. Every line already carries the module name (and, on the request path, the request id).
 * @example ctx.logger.info({ orderId }, 'order stored')
 */
export interface Logger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  /** A logger whose lines also carry `bindings`. */
  child(bindings: LogFields): Logger
}
