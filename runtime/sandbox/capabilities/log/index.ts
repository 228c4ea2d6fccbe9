// ctx.log: ambient (never granted, never refused). Lines are cut inside the isolate before the host copies anything,
// then rate- and size-limited per component in the worker (log-gate.ts) and written by the engine, secrets redacted.
// No host ops: a line goes to the worker as toHost(['log', …]), not as a call the engine answers.
import { defineCapability } from '../capability.ts'
import { LOG_FIELDS_CHARS, LOG_MESSAGE_CHARS } from './log-gate.ts'

/** Longest log message whose first characters are read and kept (see the shim below). */
const LOG_READ_CHARS = 1_048_576

export default defineCapability({
  name: 'log',
  doc: 'structured log lines (debug, info, warn, error), rate- and size-limited per component; always available',
  ops: {},
  guest: {
    // Cut here, inside the isolate, before the host copies anything: copying first made a 256 MiB rope (built from a
    // 1 MiB string for 1 MiB of the isolate's heap) cost the worker 257 MiB. Reading any character of a rope makes V8
    // flatten all of it (measured: slice, charCodeAt, iteration each allocated the 256 MiB), so a message longer than
    // LOG_READ_CHARS characters is not read at all, only its length logged. Fields go through the capped serialiser,
    // which refuses a long string by its length before reading it.
    prelude: String.raw`const log = (level) => (message, fields) => {
    let text = typeof message === 'string' ? message : Str(message);
    if (text.length > ${LOG_READ_CHARS}) text = '(a message of ' + text.length + ' characters, not logged: messages over ${LOG_READ_CHARS} characters are not read)';
    else if (text.length > ${LOG_MESSAGE_CHARS}) text = apply(slice, text, [0, ${LOG_MESSAGE_CHARS}]) + '… (' + text.length + ' chars)';
    let fieldsJson;
    if (fields !== undefined) {
      const r = serialise(fields, ${LOG_FIELDS_CHARS}, false);
      fieldsJson = r.refused === undefined ? r.text
        : r.refused[0] === 'limit' ? '{"truncated":true}' : '{"unloggable":' + refusal(r.refused) + '}';
    }
    toHost(['log', level, text, fieldsJson]);
  };`,
    value: `freeze({ debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') })`,
  },
})
