// Guest source shared by the web globals (url, encoding, base64, clone, crypto), spliced into the bootstrap once,
// before them: the intrinsics they use, captured before guest code runs (guest code may replace any global or
// prototype method afterwards; nothing here looks one up again), the one worker-side call, DOMException, and the
// lazy installer (a global is built on first use: an isolate that never touches URL pays only for parsing its source).
import { GLOBAL_LIMITS } from './worker-calls.ts'

export const GLOBALS_SHARED = String.raw`
const bindF = Function.prototype.bind, callF = Function.prototype.call;
// f(this, ...args) without an array per call, and unaffected by a later change to Function.prototype.call/bind.
const uncurry = (f) => apply(bindF, callF, [f]);
const U8 = Uint8Array, U16 = Uint16Array, MapC = Map, ObjectC = Object, ArrayC = Array, RegExpC = RegExp;
const TypedArrayProto = getProto(Uint8Array.prototype);
const getter = (o, k) => getOwnDescriptor(o, k).get;
const taBuffer = uncurry(getter(TypedArrayProto, 'buffer')), taOffset = uncurry(getter(TypedArrayProto, 'byteOffset'));
const taByteLength = uncurry(getter(TypedArrayProto, 'byteLength')), taCount = uncurry(getter(TypedArrayProto, 'length'));
const taTag = uncurry(getter(TypedArrayProto, Symbol.toStringTag)), taSet = uncurry(TypedArrayProto.set);
const dvBuffer = uncurry(getter(DataView.prototype, 'buffer')), dvOffset = uncurry(getter(DataView.prototype, 'byteOffset'));
const dvLength = uncurry(getter(DataView.prototype, 'byteLength'));
const abLength = uncurry(getter(OriginalArrayBuffer.prototype, 'byteLength'));
const abDetached = uncurry(getter(OriginalArrayBuffer.prototype, 'detached'));
const isView = OriginalArrayBuffer.isView;
const charCode = uncurry(String.prototype.charCodeAt), fromCharCode = String.fromCharCode;
const strSlice = uncurry(String.prototype.slice), toLower = uncurry(String.prototype.toLowerCase), toUpper = uncurry(String.prototype.toUpperCase);
const wellFormed = uncurry(String.prototype.toWellFormed);
const mapGet = uncurry(Map.prototype.get), mapSet = uncurry(Map.prototype.set), mapHas = uncurry(Map.prototype.has);
const numToString = uncurry(Number.prototype.toString);
const globalObject = globalThis, symbolIterator = Symbol.iterator, symbolToStringTag = Symbol.toStringTag;

// A data property as the language makes one (CreateDataProperty): a null-prototype descriptor, so an inherited
// 'get' or 'set' on Object.prototype cannot turn it into an accessor.
function defineData(target, key, value, enumerable) {
  const d = create(null);
  d.value = value; d.writable = true; d.enumerable = enumerable; d.configurable = true;
  defineProperty(target, key, d);
}
function defineHidden(target, key, value) { defineData(target, key, value, false); }
// Internal lists: null-prototype, so no setter anyone adds to Array.prototype sees (or swallows) an element.
const newList = () => { const l = create(null); l.length = 0; return l; };
const listPush = (l, v) => { l[l.length] = v; l.length++; };
// A guest-visible array from a list (index writes on a fresh array literal of the right length, no holes).
function listToArray(l) {
  const out = [];
  for (let i = 0; i < l.length; i++) defineData(out, i, l[i], true);
  return out;
}

// A string from UTF-16 code units u16[0..count): in chunks (an argument list has a size limit). The chunk gets an own
// 'length', so a replaced %TypedArray%.prototype.length getter cannot change what fromCharCode reads.
function unitsToString(u16, count) {
  let out = '';
  for (let at = 0; at < count; at += 8192) {
    const n = count - at < 8192 ? count - at : 8192;
    const chunk = new U16(taBuffer(u16), taOffset(u16) + at * 2, n);
    defineHidden(chunk, 'length', n);
    out += apply(fromCharCode, null, chunk);
  }
  return out;
}

// DOMException (WebIDL): an Error with a name and its legacy code.
const DOM_CODES = nullProto({ IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
  NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
  InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18,
  NetworkError: 19, AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
  InvalidNodeTypeError: 24, DataCloneError: 25 });
class DOMException extends Err {
  #name;
  constructor(message = '', name = 'Error') {
    super(Str(message));
    this.#name = Str(name);
  }
  // Read by V8 while super() records the stack, before the field exists.
  get name() { return #name in this ? this.#name : 'Error'; }
  get code() { const c = #name in this ? DOM_CODES[this.#name] : undefined; return c === undefined ? 0 : c; }
}
defineHidden(DOMException.prototype, symbolToStringTag, 'DOMException');
const domError = (message, name) => new DOMException(message, name);

// Refusals of an argument over its cap, before anything is copied: the code crosses to the caller like a host error's.
const GLOBAL_LIMITS = nullProto(${JSON.stringify(GLOBAL_LIMITS)});
const globalTooLarge = (what) => hostError(what + '; nothing was computed (a sandbox cap: see README "Inside a component")',
  'ERR_GLOBAL_ARGUMENT_TOO_LARGE');

// The one synchronous call into the worker (worker-calls.ts): counted per invocation and its time charged to the
// invocation's CPU budget there. Answers '1' + payload, '0' + error name + '\n' + message, or '2' + code + '\n' +
// message when the invocation's budget is spent: that isolate is about to be reset, so from then on every call is
// refused here, without calling out (a loop of refused calls is then plain JavaScript, which the timeout stops).
const SYNC = freeze({ __proto__: null, arguments: freeze({ __proto__: null, copy: true }) });
let spent;
// soft: a TypeError refusal (an invalid URL) answers null instead of throwing.
function workerCall(op, a, b, c, soft = false) {
  if (spent !== undefined) throw hostError(spent[1], spent[0]);
  const r = apply(hostCall, host, [undefined, ['global', op, a, b, c], SYNC]);
  if (typeof r !== 'string' || r.length === 0) throw new Err('the sandbox worker did not answer ' + op);
  const kind = r[0];
  if (kind === '1') return strSlice(r, 1);
  let nl = 1;
  while (nl < r.length && r[nl] !== '\n') nl++;
  const name = strSlice(r, 1, nl), message = strSlice(r, nl + 1);
  if (kind === '2') { spent = [name, message]; throw hostError(message, name); }
  if (name === 'TypeError') { if (soft) return null; throw new TypeErr(message); }
  throw domError(message, name);
}
// Bytes the worker sent as a latin1 string.
function latin1Bytes(s) {
  const out = new U8(s.length);
  for (let i = 0; i < s.length; i++) out[i] = charCode(s, i);
  return out;
}

// The bytes of a BufferSource (ArrayBuffer or view) as a view, without copying; undefined for anything else.
function bytesView(source) {
  if (source === null || typeof source !== 'object') return undefined;
  if (isView(source)) {
    if (taTagSafe(source) !== undefined) return new U8(taBuffer(source), taOffset(source), taByteLength(source));
    return new U8(dvBuffer(source), dvOffset(source), dvLength(source));
  }
  try { abLength(source); } catch (_) { return undefined; }
  return new U8(source);
}
const taTagSafe = (v) => { try { return taTag(v); } catch (_) { return undefined; } };
// A fresh ArrayBuffer holding a copy of view (what crosses to the worker: never a view over a larger buffer).
function copyBuffer(view) {
  const n = taByteLength(view);
  const out = new OriginalArrayBuffer(n);
  taSet(new U8(out), view);
  return out;
}

// Installs name on the global object, built by make() on first read (then a plain data property, as standard).
// Assigning or deleting it first works as for any global. make() must be memoised by the caller when other globals
// use what it builds (they call the memoised maker, never the global, which guest code may have replaced).
function lazyGlobal(name, make) {
  const d = create(null);
  d.configurable = true; d.enumerable = false;
  d.get = function () { const v = make(); defineHidden(globalObject, name, v); return v; };
  d.set = function (v) { defineHidden(globalObject, name, v); };
  defineProperty(globalObject, name, d);
}
const once = (make) => { let made = false, value; return () => { if (!made) { value = make(); made = true; } return value; }; };
// A class or function as a built-in shows it: methods non-enumerable (class syntax does that), a toStringTag.
// Runs on first use, after guest code: only captured names (a replaced Symbol global cannot reach here).
function tagged(C, tag) { defineHidden(C.prototype, symbolToStringTag, tag); return C; }
const ILLEGAL = freeze(create(null)); // the token our own code passes to constructors guests may not call
lazyGlobal('DOMException', () => DOMException);
`
