// The guest half of the output rules, spliced into the bootstrap (guest-bootstrap.ts) and so evaluated inside every
// isolate before guest code: a JSON serialiser that stops at the output cap and refuses what JSON cannot carry.
//
// Why not JSON.stringify: it builds the whole text before anything can compare it with the cap (refusing a 100 MB
// result cost 100 MB), and it silently rewrites values (a Map becomes {}, NaN null, undefined in an array null).
// This walk charges every piece against the cap in UTF-8 bytes, exactly, before building it, and stops at the first
// value that is not plain data. It never calls toJSON (an inherited Object.prototype.toJSON cannot change what the
// host reads). What it accepts is what JSON round-trips: null, booleans, finite numbers, strings, arrays (Array.isArray)
// and objects whose prototype is Object.prototype or null (own enumerable string keys, read once each, like JSON).
// Two values are converted rather than refused, and the worker then checks that the output schema allows the result
// at that path (output-values.ts): a Date (its ISO string) and an object property whose value is undefined (left out).
//
// It uses only names the bootstrap captured before guest code ran: apply, stringify, keys, create, slice, Str.

export const GUEST_OUTPUT = String.raw`
const isArray = Array.isArray, getProto = Object.getPrototypeOf, ObjectProto = Object.prototype;
const objectTag = Object.prototype.toString;
const dateTime = Date.prototype.getTime, dateIso = Date.prototype.toISOString;
const exec = RegExp.prototype.exec, NON_ASCII = /[^\x00-\x7f]/;
const codeAt = String.prototype.charCodeAt;
const SetC = Set, setHas = Set.prototype.has, setAdd = Set.prototype.add, setDelete = Set.prototype.delete;
// Thrown through the walk to stop it; never seen by guest code (getters run inside the walk, but cannot catch it:
// it unwinds through our frames only, and a guest getter that catches everything only catches its own calls).
const STOP = freeze(create(null));

// UTF-8 bytes of a JSON text: JSON.stringify escapes lone surrogates, so every surrogate here is half of a pair.
function utf8(text) {
  if (apply(exec, NON_ASCII, [text]) === null) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = apply(codeAt, text, [i]);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

// What a non-plain object is, for the refusal (the worker words the message): a built-in's tag, or its class name.
function kindOf(value, proto) {
  let tag = 'Object';
  try { tag = apply(slice, apply(objectTag, value, []), [8, -1]); } catch (_) {}
  if (tag !== 'Object') return tag;
  try {
    const ctor = proto.constructor;
    const name = typeof ctor === 'function' ? ctor.name : undefined;
    if (typeof name === 'string' && name !== '') return 'class ' + apply(slice, name, [0, 100]);
  } catch (_) {}
  return 'class';
}

// Serialises value as JSON text of at most cap UTF-8 bytes. Returns { text, conversions } or { refused } where
// refused is [kind, pathSegments] ('limit' for the cap); a guest getter or trap that throws propagates.
// strict: conversions are refused too (example outputs, StepError details: no schema to allow them).
function serialise(value, cap, strict) {
  let bytes = 0, out = '', depth = 0;
  let refused, conversions = '', converted = create(null);
  const path = create(null);        // depth -> key or index: a null prototype, so no inherited setter sees a write
  const seen = new SetC();
  const pathJson = () => { let s = '['; for (let i = 1; i <= depth; i++) s += (i > 1 ? ',' : '') + stringify(path[i]); return s + ']'; };
  const refuse = (kind) => { refused = [kind, pathJson()]; throw STOP; };
  const add = (text) => { bytes += utf8(text); if (bytes > cap) refuse('limit'); out += text; };
  // One entry per path with array indices folded (the schema check does not depend on them), so recording is
  // bounded by the output; a left-out property adds no output, so its entry is charged against the cap instead.
  const convert = (kind) => {
    if (strict) refuse(kind);
    let folded = kind;
    for (let i = 1; i <= depth; i++) folded += typeof path[i] === 'number' ? '\u0000*' : '\u0000' + path[i];
    if (converted[folded] === true) return;
    converted[folded] = true;
    const entry = (conversions === '' ? '' : ',') + '[' + stringify(kind) + ',' + pathJson() + ']';
    if (kind === 'absent') { bytes += utf8(entry); if (bytes > cap) refuse('limit'); }
    conversions += entry;
  };

  function walk(v) {
    switch (typeof v) {
      case 'string':
        // Every UTF-16 unit is at least one byte: a string longer than what is left is refused before it is escaped.
        if (v.length > cap - bytes) refuse('limit');
        return add(stringify(v));
      case 'number':
        if (v !== v) refuse('NaN');
        if (v === 1 / 0 || v === -1 / 0) refuse('Infinity');
        return add(stringify(v));
      case 'boolean': return add(v ? 'true' : 'false');
      case 'undefined': return refuse(depth > 0 && typeof path[depth] === 'number' ? 'undefined-item' : 'undefined');
      case 'bigint': return refuse('BigInt');
      case 'symbol': return refuse('symbol');
      case 'function': return refuse('function');
    }
    if (v === null) return add('null');
    if (apply(setHas, seen, [v])) refuse('cycle');
    if (isArray(v)) {
      apply(setAdd, seen, [v]);
      add('[');
      const length = v.length;
      depth++;
      for (let i = 0; i < length; i++) {
        path[depth] = i;
        if (i > 0) add(',');
        walk(v[i]);
      }
      depth--;
      add(']');
      apply(setDelete, seen, [v]);
      return;
    }
    const proto = getProto(v);
    if (proto === ObjectProto || proto === null) {
      apply(setAdd, seen, [v]);
      add('{');
      const k = keys(v);
      let first = true;
      depth++;
      for (let i = 0; i < k.length; i++) {
        const key = k[i];
        path[depth] = key;
        const item = v[key];
        if (item === undefined) { convert('absent'); continue; }
        if (key.length > cap - bytes) refuse('limit');
        add((first ? '' : ',') + stringify(key) + ':');
        first = false;
        walk(item);
      }
      depth--;
      add('}');
      apply(setDelete, seen, [v]);
      return;
    }
    let time;
    try { time = apply(dateTime, v, []); } catch (_) { return refuse(kindOf(v, proto)); }
    if (time !== time) refuse('invalid-date');
    convert('date');
    add(stringify(apply(dateIso, v, [])));
  }

  try {
    if (value === undefined && !strict) return { text: 'null', conversions: '[]' };
    walk(value);
  } catch (error) {
    if (error !== STOP) throw error;
    return { refused };
  }
  return { text: out, conversions: '[' + conversions + ']' };
}
`
