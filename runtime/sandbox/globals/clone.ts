// structuredClone, in the isolate (HTML's structured serialisation, as one walk): primitives, plain objects and
// arrays (own enumerable string keys), Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView, boxed
// primitives, errors; cycles and shared references kept. Functions, symbols, WeakMap/WeakSet/WeakRef, promises and
// other objects with hidden state: DataCloneError. Built-ins are recognised by their internal slots (brand-checking
// getters), never by Symbol.toStringTag or constructor, which guest code controls. What it costs is the component's
// own CPU and heap; a nesting deeper than the stack allows throws a RangeError, as V8's own does.
export const CLONE_GLOBALS = String.raw`
const DateC = Date, dateTimeU = uncurry(dateTime), BooleanProtoValue = uncurry(Boolean.prototype.valueOf), NumberProtoValue = uncurry(Number.prototype.valueOf);
const StringProtoValue = uncurry(String.prototype.valueOf), BigIntProtoValue = uncurry(BigInt.prototype.valueOf);
const SymbolProtoValue = uncurry(Symbol.prototype.valueOf);
const mapSize = uncurry(getter(Map.prototype, 'size')), setSize = uncurry(getter(Set.prototype, 'size'));
const mapForEach = uncurry(Map.prototype.forEach), setForEach = uncurry(Set.prototype.forEach);
const setAddU = uncurry(Set.prototype.add);
const reSource = uncurry(getter(RegExp.prototype, 'source')), reFlags = uncurry(getter(RegExp.prototype, 'flags'));
const wmHas = uncurry(WeakMap.prototype.has), wsHas = uncurry(WeakSet.prototype.has), wrDeref = uncurry(WeakRef.prototype.deref);
const abResizable = uncurry(getter(OriginalArrayBuffer.prototype, 'resizable'));
const abTransfer = uncurry(OriginalArrayBuffer.prototype.transfer);
const isError = typeof Error.isError === 'function' ? Error.isError : (v) => apply(objectTag, v, []) === '[object Error]';
const hasOwn = Object.hasOwn;
const ERROR_CTORS = nullProto({ Error: 0, EvalError: 0, RangeError: 0, ReferenceError: 0, SyntaxError: 0, TypeError: 0, URIError: 0 });
const ERROR_CLASSES = create(null);
ERROR_CLASSES.Error = Error; ERROR_CLASSES.EvalError = EvalError; ERROR_CLASSES.RangeError = RangeError;
ERROR_CLASSES.ReferenceError = ReferenceError; ERROR_CLASSES.SyntaxError = SyntaxError; ERROR_CLASSES.TypeError = TypeError;
ERROR_CLASSES.URIError = URIError;
const VIEW_CLASSES = create(null);
VIEW_CLASSES.Int8Array = Int8Array; VIEW_CLASSES.Uint8Array = Uint8Array; VIEW_CLASSES.Uint8ClampedArray = Uint8ClampedArray;
VIEW_CLASSES.Int16Array = Int16Array; VIEW_CLASSES.Uint16Array = Uint16Array; VIEW_CLASSES.Int32Array = Int32Array;
VIEW_CLASSES.Uint32Array = Uint32Array; VIEW_CLASSES.Float32Array = Float32Array; VIEW_CLASSES.Float64Array = Float64Array;
VIEW_CLASSES.BigInt64Array = BigInt64Array; VIEW_CLASSES.BigUint64Array = BigUint64Array;
if (typeof Float16Array === 'function') VIEW_CLASSES.Float16Array = Float16Array;
const DataViewC = DataView;
// Objects with hidden state that cannot be copied (by their tag: a spoofed tag only gets its owner a DataCloneError).
const UNCLONABLE_TAGS = nullProto({ '[object Promise]': true, '[object WeakMap]': true, '[object WeakSet]': true,
  '[object WeakRef]': true, '[object FinalizationRegistry]': true, '[object Generator]': true, '[object AsyncGenerator]': true,
  '[object Map Iterator]': true, '[object Set Iterator]': true, '[object Array Iterator]': true, '[object String Iterator]': true,
  '[object RegExp String Iterator]': true, '[object Iterator]': true, '[object DOMException]': true });

const brand = (check, v) => { try { check(v); return true; } catch (_) { return false; } };
const cloneError = (what) => domError(what + ' could not be cloned.', 'DataCloneError');

function cloneInto(v, memo) {
  if (typeof v === 'symbol') throw cloneError(apply(symbolToString, v, []));
  if (typeof v === 'function') throw cloneError('function ' + describeFunction(v));
  if (v === null || typeof v !== 'object') return v;
  const seen = mapGet(memo, v);
  if (seen !== undefined) return seen;
  if (isArray(v)) {
    const out = new ArrayC(v.length);
    mapSet(memo, v, out);
    copyProperties(v, out, memo);
    return out;
  }
  if (brand(dateTimeU, v)) { const out = new DateC(dateTimeU(v)); mapSet(memo, v, out); return out; }
  if (v !== RegExp.prototype && brand(reSource, v)) {
    const out = new RegExpC(reSource(v), reFlags(v)); mapSet(memo, v, out); return out;
  }
  if (brand(abLength, v)) {
    if (abDetached(v)) throw cloneError('a detached ArrayBuffer');
    if (abResizable(v)) throw cloneError('a resizable ArrayBuffer');
    const out = copyBuffer(new U8(v)); mapSet(memo, v, out); return out;
  }
  if (isView(v)) {
    const tag = taTagSafe(v);
    if (tag !== undefined) {
      const buffer = cloneInto(taBuffer(v), memo);
      const out = new VIEW_CLASSES[tag](buffer, taOffset(v), taCount(v)); mapSet(memo, v, out); return out;
    }
    const buffer = cloneInto(dvBuffer(v), memo);
    const out = new DataViewC(buffer, dvOffset(v), dvLength(v)); mapSet(memo, v, out); return out;
  }
  if (brand(mapSize, v)) {
    const out = new MapC();
    mapSet(memo, v, out);
    const entries = newList();
    mapForEach(v, (value, key) => { listPush(entries, key); listPush(entries, value); });
    for (let i = 0; i < entries.length; i += 2) mapSet(out, cloneInto(entries[i], memo), cloneInto(entries[i + 1], memo));
    return out;
  }
  if (brand(setSize, v)) {
    const out = new SetC();
    mapSet(memo, v, out);
    const entries = newList();
    setForEach(v, (value) => { listPush(entries, value); });
    for (let i = 0; i < entries.length; i++) setAddU(out, cloneInto(entries[i], memo));
    return out;
  }
  if (brand(BooleanProtoValue, v)) { const out = ObjectC(BooleanProtoValue(v)); mapSet(memo, v, out); return out; }
  if (brand(NumberProtoValue, v)) { const out = ObjectC(NumberProtoValue(v)); mapSet(memo, v, out); return out; }
  if (brand(StringProtoValue, v)) { const out = ObjectC(StringProtoValue(v)); mapSet(memo, v, out); return out; }
  if (brand(BigIntProtoValue, v)) { const out = ObjectC(BigIntProtoValue(v)); mapSet(memo, v, out); return out; }
  if (brand(SymbolProtoValue, v)) throw cloneError('a Symbol object');
  if (brand((x) => wmHas(x, ObjectProto), v) || brand((x) => wsHas(x, ObjectProto), v) || brand(wrDeref, v)) throw cloneError('a weak collection or WeakRef');
  if (UNCLONABLE_TAGS[apply(objectTag, v, [])] === true) throw cloneError(apply(objectTag, v, []));
  if (isError(v)) {
    let name = 'Error';
    try { const n = v.name; if (typeof n === 'string' && ERROR_CTORS[n] === 0) name = n; } catch (_) {}
    const message = hasOwn(v, 'message') ? Str(v.message) : undefined;
    const out = new ERROR_CLASSES[name](message);
    mapSet(memo, v, out);
    const stack = v.stack;
    if (typeof stack === 'string') defineHidden(out, 'stack', stack);
    if (hasOwn(v, 'cause')) defineHidden(out, 'cause', cloneInto(v.cause, memo));
    return out;
  }
  const out = {};
  mapSet(memo, v, out);
  copyProperties(v, out, memo);
  return out;
}
const symbolToString = Symbol.prototype.toString;
function describeFunction(f) {
  try { const n = f.name; return typeof n === 'string' && n !== '' ? strSlice(n, 0, 100) : '(anonymous)'; } catch (_) { return '(anonymous)'; }
}
// Own enumerable string keys, read once each (getters run, as in the standard), written as data properties.
function copyProperties(from, to, memo) {
  const k = keys(from);
  for (let i = 0; i < k.length; i++) defineData(to, k[i], cloneInto(from[k[i]], memo), true);
}

function structuredClone(value, options = undefined) {
  if (arguments.length === 0) throw new TypeErr("structuredClone: 1 argument required, but only 0 present");
  let transfer;
  if (options !== undefined && options !== null) {
    const list = options.transfer;
    if (list !== undefined && list !== null) {
      transfer = new MapC();
      const n = list.length;
      for (let i = 0; i < n; i++) {
        const buffer = list[i];
        if (!brand(abLength, buffer)) throw cloneError('a transfer list entry that is not an ArrayBuffer');
        if (mapHas(transfer, buffer)) throw cloneError('an ArrayBuffer listed twice in transfer');
        if (abDetached(buffer)) throw cloneError('a detached ArrayBuffer');
        mapSet(transfer, buffer, true);
      }
    }
  }
  const out = cloneInto(value, new MapC());
  // Transferred buffers were copied like the others; the originals are detached now, as the standard requires.
  if (transfer !== undefined) mapForEach(transfer, (_, buffer) => { abTransfer(buffer); });
  return out;
}
lazyGlobal('structuredClone', () => structuredClone);
`
