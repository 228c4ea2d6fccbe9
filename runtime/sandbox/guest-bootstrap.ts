// The code that runs first inside every isolate: it captures the intrinsics it needs before any guest code runs,
// removes what guests must not have, and keeps the only host reference in a closure no guest code can reach.
//
// It is evaluated with context.evalClosureSync(BOOTSTRAP, [hostReference]) and returns { install, configure, start,
// deliver, cancel }: install reads the definition, the worker validates the config against it, configure hands it over.
// Guest code may overwrite any global or prototype afterwards; nothing here looks them up again.
import { GUEST_OUTPUT } from './guest-output.ts'

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

${GUEST_OUTPUT}

// isolated-vm reads options with ordinary property lookups: null prototypes keep a polluted Object.prototype
// (reference, externalCopy, timeout, getters) out of every host call.
const COPY = freeze({ __proto__: null, arguments: freeze({ __proto__: null, copy: true }) });
const toHost = (args) => apply(hostCall, host, [undefined, args, COPY]);

let definition, execute, init, config, identity;
const live = create(null);      // invocation id -> output cap (UTF-8 bytes)
const pending = create(null);   // host call id -> [resolve, reject, invocation id]
const contexts = create(null);  // invocation id -> its ctx's state ({ cancelled }), until it finishes or is cancelled
const hostErrors = new WeakMapC(); // errors the host produced -> their code: only these keep a code when they escape
let seq = 0;

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
  return new P((resolve, reject) => {
    const callId = ++seq;
    pending[callId] = [resolve, reject, state.id];
    toHost(['call', state.id, callId, op, stringify(args)]);
  });
}
const then = (promise, f) => apply(thenP, promise, [f]);

function makeContext(id) {
  const state = create(null);
  state.id = id;
  state.cancelled = false;
  contexts[id] = state;
  const log = (level) => (message, fields) => {
    toHost(['log', level, Str(message), fields === undefined ? undefined : stringify(fields)]);
  };
  return freeze({
    config,
    component: identity,
    log: freeze({ debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }),
    kv: freeze({
      get: (key) => call(state, 'kv.get', [key]),
      getEntry: (key) => then(call(state, 'kv.getEntry', [key]), (e) => e === null ? null : freeze({ value: e.value, version: e.version })),
      // Resolves with the new version; { ifVersion } makes it a compare-and-set, where an ifVersion present but
      // undefined ({ ifVersion: entry?.version } for a missing entry) means "must not exist", never "unconditional".
      set: (key, value, options) => call(state, 'kv.set', options === undefined || options === null ? [key, value]
        : typeof options !== 'object' ? [key, value, options]
        : [key, value, 'ifVersion' in options ? { ifVersion: options.ifVersion === undefined ? null : options.ifVersion } : {}]),
      increment: (key, by) => call(state, 'kv.increment', by === undefined ? [key] : [key, by]),
      delete: (key) => call(state, 'kv.delete', [key]),
      list: (prefix, limit) => call(state, 'kv.list', [prefix, limit]),
    }),
    fetch: (url, init) => then(call(state, 'fetch', [{
      url: Str(url), method: init && init.method, headers: init && init.headers, body: init && init.body,
    }]), (r) => freeze({
      status: r.status, ok: r.status >= 200 && r.status < 300, url: r.url, headers: freeze(r.headers),
      text: () => apply(resolveP, P, [r.body]),
      json: () => new P((resolve) => resolve(parse(r.body))),
    })),
    emit: (topic, payload) => then(call(state, 'emit', [Str(topic), payload === undefined ? null : payload]), () => undefined),
    secrets: freeze({ get: (name) => call(state, 'secrets.get', [Str(name)]) }),
  });
}

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
      output: value.output, limits: value.limits, hasInit: typeof init === 'function',
    });
    return '[' + meta + ',' + examples + ',' + refused + ']';
  },
  configure(configJson, name, generation) {
    config = deepFreeze(parse(configJson));
    identity = freeze({ name, generation });
  },
  start(id, kind, inputJson, outputCap) {
    live[id] = outputCap;
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
    const k = keys(pending);
    for (let i = 0; i < k.length; i++) if (pending[k[i]][2] === id) delete pending[k[i]];
  },
};
`
