// console.log/info/warn/error/debug inside the isolate: each call is one line of the component's log, through the
// same path and the same caps as ctx.log (cut here before the host copies anything, then the worker's per-component
// rate limit, then the engine's redaction of secrets). console.log is level info.
//
// console.info('priced', { total }) — a message then one plain object — is ctx.log.info(message, fields): the object
// becomes the line's fields. Anything else is formatted into the message (%s %d %i %f %j %o %O %c %% in a first
// string argument, the rest joined with spaces; objects as capped JSON, errors by their stack).
import { LOG_FIELDS_CHARS, LOG_MESSAGE_CHARS } from '../capabilities/log/log-gate.ts'

/** A string argument longer than this is not read (reading any character of a rope flattens all of it). */
const READ_CHARS = 1_048_576

/** Guest half, spliced into guest-bootstrap.ts. Uses `toHost`, `serialise`, `apply`, `slice`, `Str`, `create`. */
export const CONSOLE = String.raw`
{
  const tagOf = Object.prototype.toString, protoOf = Object.getPrototypeOf, PlainProto = Object.prototype;
  const charAt = String.prototype.charAt, floor = Math.floor;
  const MESSAGE = ${LOG_MESSAGE_CHARS}, FIELDS = ${LOG_FIELDS_CHARS}, READ = ${READ_CHARS};
  const isPlain = (v) => {
    if (v === null || typeof v !== 'object') return false;
    try { const p = protoOf(v); return p === PlainProto || p === null; } catch (_) { return false; }
  };
  const text = (s) => s.length > READ ? '(a string of ' + s.length + ' characters, not logged: strings over ' + READ + ' characters are not read)'
    : s.length > MESSAGE ? apply(slice, s, [0, MESSAGE]) : s;
  // One argument as text, never more than about MESSAGE characters, whatever it is.
  const piece = (v) => {
    try {
      if (typeof v === 'string') return text(v);
      if (typeof v === 'function') return '[function ' + text(Str(v.name)) + ']';
      if (v === null || typeof v !== 'object') return text(Str(v));
      if (apply(tagOf, v, []) === '[object Error]') {
        const stack = v.stack;
        return text(typeof stack === 'string' ? stack : Str(v.name) + ': ' + Str(v.message));
      }
      const r = serialise(v, FIELDS, false);
      if (r.refused === undefined) return r.text;
      return r.refused[0] === 'limit' ? '[an object over ' + FIELDS + ' bytes of JSON]' : '[' + text(Str(r.refused[0])) + ']';
    } catch (_) {
      return '[a value that cannot be described]';
    }
  };
  // %-directives of a first string argument, as console.log reads them; returns [text, arguments consumed].
  const format = (first, args) => {
    let out = '', used = 1;
    for (let i = 0; i < first.length; i++) {
      const c = apply(charAt, first, [i]);
      if (c !== '%' || i + 1 === first.length) { out += c; continue; }
      const d = apply(charAt, first, [i + 1]);
      if (d === '%') { out += '%'; i++; continue; }
      if (d !== 's' && d !== 'd' && d !== 'i' && d !== 'f' && d !== 'j' && d !== 'o' && d !== 'O' && d !== 'c') { out += c; continue; }
      i++;
      if (used >= args.length) { out += '%' + d; continue; }
      const v = args[used++];
      if (d === 'c') continue;
      if (d === 'd' || d === 'i' || d === 'f') {
        let n;
        try { n = typeof v === 'bigint' ? v : +v; } catch (_) { n = NaN; }
        out += d === 'f' || typeof n === 'bigint' ? Str(n) : Str(n === n && n !== Infinity && n !== -Infinity ? floor(n) : n);
      } else out += piece(v);
      if (out.length > MESSAGE) break;
    }
    return [out, used];
  };
  const line = (level) => function (...args) {
    let fields;
    let n = args.length;
    // ('message', { fields }): the ctx.log shape.
    if (n === 2 && typeof args[0] === 'string' && isPlain(args[1])) {
      const r = serialise(args[1], FIELDS, false);
      fields = r.refused === undefined ? r.text : r.refused[0] === 'limit' ? '{"truncated":true}' : '{"unloggable":' + refusal(r.refused) + '}';
      n = 1;
    }
    let out = '', i = 0;
    if (n > 0 && typeof args[0] === 'string' && n > 1) {
      const f = format(text(args[0]), args);
      out = f[0];
      i = f[1];
    }
    for (; i < n && out.length <= MESSAGE; i++) out += (out === '' && i === 0 ? '' : ' ') + piece(args[i]);
    if (out.length > MESSAGE) out = apply(slice, out, [0, MESSAGE]) + '… (cut)';
    toHost(['log', level, out, fields]);
  };
  const console = {
    log: line('info'), info: line('info'), warn: line('warn'), error: line('error'), debug: line('debug'),
  };
  defineProperty(globalThis, 'console', { value: console, writable: true, configurable: true, enumerable: false });
}
`
