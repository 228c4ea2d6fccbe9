// The guest half of the output rules, spliced into the bootstrap (guest-bootstrap.ts) and so evaluated inside every
// isolate before guest code: a JSON serialiser that stops at the output cap and refuses what JSON cannot carry.
//
// Why not JSON.stringify: it builds the whole text before anything can compare it with the cap (refusing a 100 MB
// result cost 100 MB), and it silently rewrites values (a Map becomes {}, NaN null, undefined in an array null).
// This walk stops as soon as the text passes the cap (in characters while walking, then exactly in UTF-8 bytes), so
// refusing an oversized output costs no more than the cap, and it stops at the first value that is not plain data. It never calls toJSON (an inherited Object.prototype.toJSON cannot change what the
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
// What JSON.stringify would escape in a string; without any, the JSON is the string in quotes (no native call).
const NEEDS_ESCAPE = /["\\\x00-\x1f\ud800-\udfff]/;
const codeAt = String.prototype.charCodeAt;
const SetC = Set, setHas = Set.prototype.has, setAdd = Set.prototype.add, setDelete = Set.prototype.delete;
// Thrown through the walk to stop it; guest code never sees it: getters and traps have returned before it is thrown,
// so it unwinds through our frames only.
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

// Cycles are only looked for below this depth: shallower, nothing is tracked (the common case costs nothing), and a
// cycle through shallower objects repeats below it anyway; the path reported is then cut back to its first repeat.
const CYCLE_DEPTH = 32;

// depth -> key or index, and depth -> the array or object walked there. Null prototypes, so no inherited setter sees
// a write. Kept between calls (a null-prototype object is costly to make, next to a small output); entries above
// the current depth are never read (until overwritten, they keep the last output's containers alive: the guest's
// own objects, in its own heap). A walk never starts inside another (guest code cannot reach serialise), but if
// one did, it gets its own.
const PATH = create(null), OBJS = create(null);
let walking = false;

// Serialises value as JSON text of at most cap UTF-8 bytes. Returns { text, conversions } or { refused } where
// refused is [kind, pathJson] ('limit' for the cap); a guest getter or trap that throws propagates.
// strict: conversions are refused too (example outputs, StepError details: no schema to allow them).
//
// The walk tracks characters (each is at least one UTF-8 byte, so past the cap in characters is past it in bytes)
// and counts the exact bytes once, at the end, over at most cap characters: the work is bounded by the cap.
function serialise(value, cap, strict) {
  let out = '', extra = 0, depth = 0;
  let refused, conversions = '', converted;
  let quoted, keyCount = 0;         // key -> its JSON, once an output has many keys (objects mostly share theirs)
  const nested = walking;
  const path = nested ? create(null) : PATH, objs = nested ? create(null) : OBJS;
  let seen;                         // ancestors below CYCLE_DEPTH
  const pathJson = (to) => { let s = '['; for (let i = 1; i <= to; i++) s += (i > 1 ? ',' : '') + stringify(path[i]); return s + ']'; };
  const refuse = (kind) => { refused = [kind, pathJson(depth)]; throw STOP; };
  // One entry per path with array indices folded (the schema check does not depend on them); every entry is charged
  // against the cap like output (a Date deep down would otherwise repeat its long path for each distinct key).
  const convert = (kind) => {
    if (strict) refuse(kind);
    let folded = kind;
    for (let i = 1; i <= depth; i++) folded += typeof path[i] === 'number' ? '\u0000*' : '\u0000' + path[i];
    if (converted === undefined) converted = create(null);
    if (converted[folded] === true) return;
    converted[folded] = true;
    const entry = (conversions === '' ? '' : ',') + '[' + stringify(kind) + ',' + pathJson(depth) + ']';
    extra += entry.length;
    if (out.length + extra > cap) refuse('limit');
    conversions += entry;
  };
  // v is at depth and again above it: the chain repeats with that period; report where it first closes.
  const cycle = (v) => {
    let last = depth - 1;
    while (objs[last] !== v) last--;
    const period = depth - last;
    let entry = 0;
    while (objs[entry] !== objs[entry + period]) entry++;
    refused = ['cycle', pathJson(entry + period)];
    throw STOP;
  };
  const enter = (v) => {
    objs[depth] = v;
    if (depth < CYCLE_DEPTH) return;
    if (seen === undefined) seen = new SetC();
    if (apply(setHas, seen, [v])) cycle(v);
    apply(setAdd, seen, [v]);
  };
  const leave = (v) => { if (depth >= CYCLE_DEPTH) apply(setDelete, seen, [v]); };

  function walk(v) {
    switch (typeof v) {
      case 'string':
        // A string longer than what is left is refused before it is escaped.
        if (v.length > cap - out.length - extra) refuse('limit');
        out += apply(exec, NEEDS_ESCAPE, [v]) === null ? '"' + v + '"' : stringify(v);
        if (out.length + extra > cap) refuse('limit');
        return;
      case 'number':
        if (v !== v) refuse('NaN');
        if (v === 1 / 0 || v === -1 / 0) refuse('Infinity');
        out += '' + v;   // a finite number's JSON is its ToString
        if (out.length + extra > cap) refuse('limit');
        return;
      case 'boolean':
        out += v ? 'true' : 'false';
        if (out.length + extra > cap) refuse('limit');
        return;
      case 'undefined': return refuse(depth > 0 && typeof path[depth] === 'number' ? 'undefined-item' : 'undefined');
      case 'bigint': return refuse('BigInt');
      case 'symbol': return refuse('symbol');
      case 'function': return refuse('function');
    }
    if (v === null) { out += 'null'; if (out.length + extra > cap) refuse('limit'); return; }
    if (isArray(v)) {
      enter(v);
      out += '[';
      const length = v.length;
      depth++;
      for (let i = 0; i < length; i++) {
        path[depth] = i;
        if (i > 0) out += ',';
        walk(v[i]);
      }
      depth--;
      out += ']';
      if (out.length + extra > cap) refuse('limit');
      leave(v);
      return;
    }
    const proto = getProto(v);
    if (proto === ObjectProto || proto === null) {
      enter(v);
      out += '{';
      const k = keys(v);
      let first = true;
      depth++;
      for (let i = 0; i < k.length; i++) {
        const key = k[i];
        path[depth] = key;
        const item = v[key];
        if (item === undefined) { convert('absent'); continue; }
        if (key.length > cap - out.length - extra) refuse('limit');
        let json;
        if (++keyCount < 64) json = stringify(key);
        else {
          if (quoted === undefined) quoted = create(null);
          json = quoted[key];
          if (json === undefined) quoted[key] = json = stringify(key);
        }
        out += (first ? '' : ',') + json + ':';
        first = false;
        walk(item);
      }
      depth--;
      out += '}';
      if (out.length + extra > cap) refuse('limit');
      leave(v);
      return;
    }
    let time;
    try { time = apply(dateTime, v, []); } catch (_) { return refuse(kindOf(v, proto)); }
    if (time !== time) refuse('invalid-date');
    convert('date');
    out += stringify(apply(dateIso, v, []));
    if (out.length + extra > cap) refuse('limit');
  }

  walking = true;
  try {
    if (value === undefined && !strict) return { text: 'null', conversions: '[]' };
    walk(value);
    // Exact UTF-8, once: needed only when the text could be over the cap (a character is at most 3 bytes).
    if (out.length * 3 + extra > cap && utf8(out) + extra > cap) { depth = 0; refuse('limit'); }
  } catch (error) {
    if (error !== STOP) throw error;
    return { refused };
  } finally {
    walking = nested;
  }
  return { text: out, conversions: '[' + conversions + ']' };
}
`
