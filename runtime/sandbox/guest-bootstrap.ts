// The code that runs first inside every isolate: it captures the intrinsics it needs before any guest code runs,
// removes what guests must not have, and keeps the only host reference in a closure no guest code can reach.
//
// It is run as a function of the host reference (isolate-slot.ts runBootstrap, from V8's code cache) and returns { install, configure, start,
// deliver, cancel }: install reads the definition, the worker validates the config against it, configure hands it over.
// Guest code may overwrite any global or prototype afterwards; nothing here looks them up again.
import { GUEST_OUTPUT } from './guest-output.ts'
import { CAPABILITY_LIST } from './capabilities/list.ts'
import { DEFAULT_ARGUMENT_CAP, HOST_ARGUMENT_CAPS } from './protocol.ts'
import { GLOBALS_SHARED } from './globals/shared.ts'
import { ENCODING_GLOBALS } from './globals/encoding.ts'
import { BASE64_GLOBALS } from './globals/base64.ts'
import { CLONE_GLOBALS } from './globals/clone.ts'
import { CRYPTO_GLOBALS } from './globals/crypto.ts'
import { URL_GLOBALS } from './globals/url.ts'
import { TIMERS } from './globals/timers.ts'
import { ABORT } from './globals/abort.ts'
import { CONSOLE } from './globals/console.ts'
import { FETCH } from './globals/fetch.ts'

/** How the refusal of an ungranted op names what is missing, per op (capability `deniedAs`; default: the op). */
const DENIED_AS: Record<string, string> = Object.fromEntries(
  CAPABILITY_LIST.flatMap(({ ops, deniedAs }) => deniedAs === undefined ? [] : Object.keys(ops).map((op) => [op, deniedAs])))

/** UTF-8 cap on the details a component's StepError carries to its caller. */
export const CLIENT_DETAILS_BYTES = 8192

export const BOOTSTRAP = String.raw`
'use strict';
const host = $0;
const apply = Reflect.apply;
const hostCall = host.applySync;
const stringify = JSON.stringify, parse = JSON.parse;
const P = Promise, resolveP = Promise.resolve, thenP = Promise.prototype.then;
const create = Object.create, freeze = Object.freeze, isFrozen = Object.isFrozen, keys = Object.keys;
const Err = Error, Str = String, slice = String.prototype.slice;
const WeakMapC = WeakMap, getWM = WeakMap.prototype.get, setWM = WeakMap.prototype.set;

// No shared memory (SharedArrayBuffer/Atomics.wait) and no WebAssembly (its memory is not bounded by the heap limit).
for (const name of ['SharedArrayBuffer', 'Atomics', 'WebAssembly']) delete globalThis[name];

const defineProperty = Object.defineProperty, getOwnDescriptor = Object.getOwnPropertyDescriptor;
const construct = Reflect.construct, TypeErr = TypeError, RangeErr = RangeError, OriginalArrayBuffer = ArrayBuffer;

// Resizable ArrayBuffers are refused. isolated-vm counts an ArrayBuffer against the memory limit when its allocator
// hands out the bytes, but V8 allocates a resizable one itself (it reserves maxByteLength of address space and commits
// pages on resize()), so the allocator never sees it: measured with isolated-vm 7 at a 64 MiB limit, eight
// new ArrayBuffer(1, { maxByteLength: 256 MiB }) resized to full (or grown by transfer(n), or through a DataView or
// typed array over one) held 2 GiB in the worker while the isolate reported 0 external bytes. Fixed-length buffers,
// transfer()/transferToFixedLength() of one, typed arrays and slice() go through the allocator and are counted.
// The only way to make a resizable buffer is this constructor with maxByteLength (SharedArrayBuffer, WebAssembly and
// V8's structuredClone are absent; the sandbox's own, globals/clone.ts, copies into fixed-length buffers), so the original is replaced everywhere guest code could reach it: the global and
// ArrayBuffer.prototype.constructor (which buffer.constructor and species lookups read). Nothing else refers to it,
// and the replacement never passes the options on.
const GuardedArrayBuffer = function ArrayBuffer(length, options) {
  if (new.target === undefined) throw new TypeErr("Constructor ArrayBuffer requires 'new'");
  if (options !== null && (typeof options === 'object' || typeof options === 'function') && options.maxByteLength !== undefined) {
    throw new RangeErr('resizable ArrayBuffers (maxByteLength) are not available in the sandbox: their memory is not counted by '
      + "the component's memory limit; allocate a fixed-length ArrayBuffer of the size you need");
  }
  return construct(OriginalArrayBuffer, [length], new.target);
};
defineProperty(GuardedArrayBuffer, 'length', { value: 1 });
defineProperty(GuardedArrayBuffer, 'prototype', { value: OriginalArrayBuffer.prototype, writable: false });
defineProperty(GuardedArrayBuffer, 'isView', getOwnDescriptor(OriginalArrayBuffer, 'isView'));
defineProperty(GuardedArrayBuffer, Symbol.species, getOwnDescriptor(OriginalArrayBuffer, Symbol.species));
defineProperty(OriginalArrayBuffer.prototype, 'constructor', { value: GuardedArrayBuffer });
defineProperty(globalThis, 'ArrayBuffer', { value: GuardedArrayBuffer });

// Intl objects keep ICU data outside the V8 heap, uncounted: measured 2 to 30 KiB each (DateTimeFormat the largest)
// against a few hundred heap bytes, so 200,000 DateTimeFormats grew a worker by over 4 GiB under a 64 MiB limit.
// Each one made through these constructors (or by Locale's maximize/minimize) carries a counted fixed-length
// ArrayBuffer of about its ICU size, freed with it: live Intl objects are then bounded by the memory limit like
// everything else (past it, creating one throws a RangeError). Intl.Segmenter is removed: each iterator over its
// segments copies the whole text outside the heap (1,000 iterators over 786 K characters: 1.5 GiB). The temporary
// ICU objects behind toLocaleString() and localeCompare() are not charged: nothing can keep them.
{
  const Intl = globalThis.Intl;
  const ballast = new WeakMapC();
  const INTL_BYTES = 32768;
  const charge = (object) => { apply(setWM, ballast, [object, new OriginalArrayBuffer(INTL_BYTES)]); return object; };
  const names = ['Collator', 'DateTimeFormat', 'DisplayNames', 'DurationFormat', 'ListFormat', 'Locale', 'NumberFormat',
    'PluralRules', 'RelativeTimeFormat'];
  if (Intl !== undefined) delete Intl.Segmenter;
  for (let i = 0; Intl !== undefined && i < names.length; i++) {
    const Original = Intl[names[i]];
    if (typeof Original !== 'function') continue;
    // Collator, DateTimeFormat and NumberFormat may be called without new, as before.
    const Charged = function (...args) {
      return charge(new.target === undefined ? apply(Original, this, args) : construct(Original, args, new.target));
    };
    defineProperty(Charged, 'name', { value: names[i] });
    defineProperty(Charged, 'length', { value: Original.length });
    defineProperty(Charged, 'prototype', { value: Original.prototype, writable: false });
    const statics = Reflect.ownKeys(Original);
    for (let j = 0; j < statics.length; j++) {
      const key = statics[j];
      if (key !== 'prototype' && key !== 'name' && key !== 'length') defineProperty(Charged, key, getOwnDescriptor(Original, key));
    }
    defineProperty(Original.prototype, 'constructor', { value: Charged });
    defineProperty(Intl, names[i], { value: Charged });
    if (names[i] === 'Locale') {
      const methods = ['maximize', 'minimize'];
      for (let j = 0; j < methods.length; j++) {
        const method = Original.prototype[methods[j]];
        if (typeof method !== 'function') continue;
        // A method, not a function: it cannot be called with new (the original cannot either).
        const charged = { [methods[j]]() { return charge(apply(method, this, [])); } }[methods[j]];
        defineProperty(Original.prototype, methods[j], { value: charged });
      }
    }
  }
}

${GUEST_OUTPUT}

// isolated-vm reads options with ordinary property lookups: null prototypes keep a polluted Object.prototype
// (reference, externalCopy, timeout, getters) out of every host call.
const COPY = freeze({ __proto__: null, arguments: freeze({ __proto__: null, copy: true }) });
const toHost = (args) => apply(hostCall, host, [undefined, args, COPY]);

let definition, execute, init, config, identity;
const granted = create(null); // op -> true, for the operations granted (see configure)
let denied;                   // op -> the refusal of an ungranted call; undefined: every call goes to the host
const live = create(null);      // invocation id -> output cap (UTF-8 bytes)
const pending = create(null);   // host call id -> [resolve, reject, invocation id]
const contexts = create(null);  // invocation id -> its ctx's state ({ cancelled }), until it finishes or is cancelled
const hostErrors = new WeakMapC(); // errors the host produced -> their code: only these keep a code when they escape
let seq = 0;
let current;                    // the invocation whose slice is running: set on every entry (start, deliver)

// Capability-call argument caps (protocol.ts HOST_ARGUMENT_CAPS), copied into null-prototype objects: a guest that
// adds 'fields' or 'max' to Object.prototype cannot change what a lookup here finds.
function nullProto(value) {
  if (value === null || typeof value !== 'object') return value;
  const copy = create(null);
  const k = keys(value);
  for (let i = 0; i < k.length; i++) copy[k[i]] = nullProto(value[k[i]]);
  return freeze(copy);
}
const CAPS_JSON = ${JSON.stringify(JSON.stringify(HOST_ARGUMENT_CAPS))};
let ARGUMENT_CAPS = nullProto(parse(CAPS_JSON)); // configure applies the caps a grant tightens (a fetch body)
const DEFAULT_CAP = nullProto(${JSON.stringify(DEFAULT_ARGUMENT_CAP)});
const DENIED_AS = nullProto(${JSON.stringify(DENIED_AS)});

function deepFreeze(value) {
  if (value !== null && typeof value === 'object' && !isFrozen(value)) {
    freeze(value);
    const k = keys(value);
    for (let i = 0; i < k.length; i++) deepFreeze(value[k[i]]);
  }
  return value;
}

function describe(error) {
  // The code as the host sent it, never error.code: the guest may have rewritten that, or set it on its own error.
  const code = apply(getWM, hostErrors, [error]);
  let message;
  try {
    message = error !== null && typeof error === 'object' && typeof error.message === 'string' ? error.message : Str(error);
  } catch (_) {
    message = 'the component threw a value that cannot be described';
  }
  if (typeof message !== 'string') message = 'the component threw';
  // A null prototype: an inherited toJSON (Object.prototype.toJSON) must not rewrite what the host reads as the code.
  const described = create(null);
  described.message = apply(slice, message, [0, 2000]);
  described.code = code;
  if (error !== null && typeof error === 'object') {
    // The stack, for the engine to map the component's own frames to its source (V8 formats it on first read).
    try { const stack = error.stack; if (typeof stack === 'string') described.stack = apply(slice, stack, [0, 4000]); } catch (_) {}
    if (code === undefined) { try { clientError(error, described); } catch (_) {} }
  }
  return stringify(described);
}

// A StepError (by shape: the guest's copy of the sdk is guest code) asks to answer the caller with a client error.
// Only carried here, as data: the engine decides whether the status and code are acceptable (client-error.ts).
function clientError(error, described) {
  if (error.name !== 'StepError') return;
  const status = error.status, code = error.code;
  if (typeof status !== 'number' || typeof code !== 'string') return;
  described.status = status;
  described.clientCode = apply(slice, code, [0, 100]);
  const details = error.details;
  if (details === undefined) return;
  const r = serialise(details, ${CLIENT_DETAILS_BYTES}, true);
  if (r.refused !== undefined) described.detailsRefused = refusal(r.refused);
  else described.details = r.text;
}

const refusal = (refused) => '[' + stringify(refused[0]) + ',' + refused[1] + ']';

function finish(id, ok, value) {
  const cap = live[id];
  if (cap === undefined) return;
  delete live[id];
  delete contexts[id];
  timersDrop(id);
  if (ok) {
    let r;
    try { r = serialise(value, cap, false); } catch (error) { return toHost(['done', id, 'threw', describe(error)]); }
    if (r.refused === undefined) return toHost(['done', id, 'ok', r.text, r.conversions]);
    if (r.refused[0] === 'limit') return toHost(['done', id, 'output', '']);
    return toHost(['done', id, 'invalid', refusal(r.refused)]);
  }
  toHost(['done', id, 'threw', describe(value)]);
}

function hostError(message, code) {
  const e = new Err(message);
  e.code = code;
  apply(setWM, hostErrors, [e, code]);
  return e;
}

// A cancelled invocation's ctx answers nothing, ever: no guest code of it runs again (a catch that spun would be
// charged to the isolate every other caller shares), and an unsettled promise nothing refers to is garbage.
function call(state, op, args) {
  if (state.cancelled) return new P(() => {});
  if (denied !== undefined && !granted[op]) {
    // Made here, not in the promise executor: its stack then holds sandbox frames only (no native Promise frame).
    const refusal = hostError(denied(op), 'ERR_CAPABILITY_DENIED');
    return new P((_, reject) => reject(refusal));
  }
  let json;
  try { json = argumentsJson(op, args); } catch (error) { return new P((_, reject) => reject(error)); }
  return new P((resolve, reject) => {
    const callId = ++seq;
    pending[callId] = [resolve, reject, state.id];
    toHost(['call', state.id, callId, op, json]);
  });
}

// The JSON of a call's arguments, each within its cap, or a refusal (ERR_CAPABILITY_ARGUMENT_TOO_LARGE) before
// anything leaves the isolate: what it cost to build is the component's own heap and CPU. A string is measured by
// its length before it is serialised (an 8 MiB topic is refused without being copied).
function argumentsJson(op, args) {
  const caps = ARGUMENT_CAPS[op];
  let out = '[';
  for (let i = 0; i < args.length; i++) {
    const cap = (caps !== undefined && caps[i] !== undefined) ? caps[i] : DEFAULT_CAP;
    out += (i > 0 ? ',' : '') + argumentJson(op, cap, args[i]);
  }
  return out + ']';
}
function argumentJson(op, cap, value) {
  if (typeof value === 'string') {
    if (value.length > cap.max) throw tooLarge(op, cap, 'is ' + value.length + ' characters, over the ' + cap.max + '-character cap');
    return stringify(value);
  }
  if (cap.fields !== undefined && value !== null && typeof value === 'object') {
    const k = keys(cap.fields);
    let out = '{', first = true;
    for (let i = 0; i < k.length; i++) {
      const v = value[k[i]];
      if (v === undefined) continue;
      out += (first ? '' : ',') + stringify(k[i]) + ':' + argumentJson(op, cap.fields[k[i]], v);
      first = false;
    }
    return out + '}';
  }
  // The capped serialiser first: it stops at the cap, and refuses a long string by its length without reading it
  // (reading a rope flattens all of it). What it would refuse as not plain JSON (a Map, a class with toJSON, NaN)
  // keeps JSON.stringify's meaning, as before, and its text is checked against the cap all the same.
  const r = serialise(value, cap.max, false);
  if (r.refused === undefined) return r.text;
  if (r.refused[0] === 'limit') throw tooLarge(op, cap, 'is over ' + cap.max + ' bytes of JSON');
  const text = stringify(value);
  if (text === undefined) return 'null';
  if (text.length > cap.max || (text.length * 3 > cap.max && utf8(text) > cap.max)) {
    throw tooLarge(op, cap, 'is over ' + cap.max + ' bytes of JSON');
  }
  return text;
}
const tooLarge = (op, cap, what) => hostError('ctx.' + op + ': the ' + cap.name + ' ' + what + '; nothing was sent',
  'ERR_CAPABILITY_ARGUMENT_TOO_LARGE');
const then = (promise, f) => apply(thenP, promise, [f]);

function makeContext(id) {
  const state = create(null);
  state.id = id;
  state.cancelled = false;
  contexts[id] = state;
  // Each capability's shim (capabilities/<name>/index.ts, guest), in the list's order.
  ${CAPABILITY_LIST.map((c) => c.guest.prelude ?? '').join('\n  ')}
  return freeze({
    config,
    component: identity,
    ${CAPABILITY_LIST.map((c) => `${c.name}: ${c.guest.value},`).join('\n    ')}
  });
}

// Web-standard globals (globals/*.ts): each installed lazily, built from the intrinsics captured above.
${GLOBALS_SHARED}
${ENCODING_GLOBALS}
${BASE64_GLOBALS}
${CLONE_GLOBALS}
${CRYPTO_GLOBALS}
${URL_GLOBALS}
${TIMERS}
${ABORT}
${CONSOLE}
${FETCH}

return {
  install(value) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      throw new Err('the default export is not a component: export default defineComponent({ ... })');
    }
    execute = value.execute;
    init = value.init;
    if (typeof execute !== 'function') throw new Err('the component has no execute(input, ctx) function');
    if (init !== undefined && typeof init !== 'function') throw new Err('init must be a function');
    definition = value;
    // Examples are held to the output rules (strict: no schema allows conversions here), so an example output
    // can never expect what a real output could not carry. [meta, examples | null, refusal | null]
    let examples = 'null', refused = 'null';
    if (value.examples !== undefined) {
      const r = serialise(value.examples, 1000000, true);
      if (r.refused === undefined) examples = r.text; else refused = refusal(r.refused);
    }
    const meta = stringify({
      name: value.name, description: value.description, config: value.config, input: value.input,
      output: value.output, limits: value.limits, capabilities: value.capabilities, hasInit: typeof init === 'function',
    });
    return '[' + meta + ',' + examples + ',' + refused + ']';
  },
  // grantedJson: the operations the app granted (and caps the grants tighten), or null when the engine decides everything.
  // Calls for anything else are refused here, never serialised or sent; the engine checks again.
  configure(configJson, name, generation, grantedJson) {
    config = deepFreeze(parse(configJson));
    identity = freeze({ name, generation });
    const g = parse(grantedJson);
    if (g === null) return;
    for (let i = 0; i < g.ops.length; i++) granted[g.ops[i]] = true;
    denied = (op) => "component '" + name + "' is not granted " + (DENIED_AS[op] !== undefined ? DENIED_AS[op] : op) + "; grant it in the app's components section";
    if (g.caps !== undefined && g.caps !== null) {
      // The engine tightened these (never past the declared caps): they replace the declared ones for this component.
      const caps = parse(CAPS_JSON);
      const k = keys(g.caps);
      for (let i = 0; i < k.length; i++) caps[k[i]] = g.caps[k[i]];
      ARGUMENT_CAPS = nullProto(caps);
    }
  },
  start(id, kind, inputJson, outputCap) {
    live[id] = outputCap;
    current = id;
    let result;
    try {
      const ctx = makeContext(id);
      result = kind === 'init' ? apply(init, definition, [config, ctx]) : apply(execute, definition, [parse(inputJson), ctx]);
      // What init resolves with is nobody's output: never serialised (it may well be a client object or a Map).
      apply(thenP, apply(resolveP, P, [result]), [(v) => finish(id, true, kind === 'init' ? undefined : v), (e) => finish(id, false, e)]);
    } catch (e) {
      finish(id, false, e);
    }
  },
  deliver(callId, ok, payload) {
    const p = pending[callId];
    if (p === undefined) return;
    delete pending[callId];
    current = p[2];
    if (ok) return p[0](parse(payload));
    p[1](hostError(payload.message, payload.code));
  },
  // The caller gave up: the invocation's pending host calls are dropped unanswered (its await chain is never resumed:
  // no guest code runs here), later calls on its ctx never settle, and its result, if it still comes, is dropped.
  cancel(id) {
    const state = contexts[id];
    delete live[id];
    delete contexts[id];
    if (state !== undefined) state.cancelled = true;
    timersDrop(id);
    const k = keys(pending);
    for (let i = 0; i < k.length; i++) if (pending[k[i]][2] === id) delete pending[k[i]];
  },
};
`
