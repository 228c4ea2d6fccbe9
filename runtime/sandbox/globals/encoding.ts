// TextEncoder / TextDecoder (UTF-8 only, WHATWG Encoding semantics), in the isolate: no worker call, so the cost of
// encoding a large string is the component's own CPU and memory. Also the UTF-8 helpers url.ts uses.
export const ENCODING_GLOBALS = String.raw`
// UTF-8 bytes of a string, lone surrogates as U+FFFD (what TextEncoder and URLSearchParams do).
function utf8Encode(s) {
  const n = s.length;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const c = charCode(s, i);
    if (c < 0x80) size += 1;
    else if (c < 0x800) size += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && charCode(s, i + 1) >= 0xdc00 && charCode(s, i + 1) <= 0xdfff) { size += 4; i++; }
    else size += 3;
  }
  const out = new U8(size);
  utf8Write(s, out, size);
  return out;
}
// Writes whole characters of s into out (at most room bytes); returns [characters read, bytes written].
function utf8Write(s, out, room) {
  const n = s.length;
  let i = 0, w = 0;
  for (; i < n; i++) {
    let c = charCode(s, i), units = 1;
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = c <= 0xdbff && i + 1 < n ? charCode(s, i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); units = 2; } else c = 0xfffd;
    }
    if (c < 0x80) { if (w + 1 > room) break; out[w++] = c; }
    else if (c < 0x800) { if (w + 2 > room) break; out[w++] = 0xc0 | (c >> 6); out[w++] = 0x80 | (c & 63); }
    else if (c < 0x10000) { if (w + 3 > room) break; out[w++] = 0xe0 | (c >> 12); out[w++] = 0x80 | ((c >> 6) & 63); out[w++] = 0x80 | (c & 63); }
    else { if (w + 4 > room) break; out[w++] = 0xf0 | (c >> 18); out[w++] = 0x80 | ((c >> 12) & 63); out[w++] = 0x80 | ((c >> 6) & 63); out[w++] = 0x80 | (c & 63); }
    i += units - 1;
  }
  const r = create(null); r.read = i; r.written = w;
  return r;
}
// A decoder's state between stream chunks (the Encoding standard's UTF-8 decoder).
function utf8State() {
  const st = create(null);
  st.needed = 0; st.seen = 0; st.cp = 0; st.lower = 0x80; st.upper = 0xbf; st.started = false;
  return st;
}
// Decodes bytes (a Uint8Array view) with st; flush ends the stream. fatal: a TypeError at the first bad sequence.
function utf8Decode(bytes, st, fatal, ignoreBOM, flush) {
  const n = taCount(bytes);
  const out = new U16(n + 1);
  let w = 0;
  const emit = (cp) => {
    if (!st.started) { st.started = true; if (cp === 0xfeff && !ignoreBOM) return; }
    if (cp > 0xffff) { cp -= 0x10000; out[w++] = 0xd800 + (cp >> 10); out[w++] = 0xdc00 + (cp & 0x3ff); }
    else out[w++] = cp;
  };
  const bad = () => {
    if (fatal) { st.needed = 0; st.seen = 0; st.cp = 0; st.lower = 0x80; st.upper = 0xbf; throw new TypeErr('The encoded data was not valid for encoding utf-8'); }
    emit(0xfffd);
  };
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (st.needed === 0) {
      if (b <= 0x7f) emit(b);
      else if (b >= 0xc2 && b <= 0xdf) { st.needed = 1; st.cp = b & 0x1f; }
      else if (b >= 0xe0 && b <= 0xef) { if (b === 0xe0) st.lower = 0xa0; if (b === 0xed) st.upper = 0x9f; st.needed = 2; st.cp = b & 0xf; }
      else if (b >= 0xf0 && b <= 0xf4) { if (b === 0xf0) st.lower = 0x90; if (b === 0xf4) st.upper = 0x8f; st.needed = 3; st.cp = b & 7; }
      else bad();
      continue;
    }
    if (b < st.lower || b > st.upper) {
      st.needed = 0; st.seen = 0; st.cp = 0; st.lower = 0x80; st.upper = 0xbf;
      bad();
      i--; // the byte starts over
      continue;
    }
    st.lower = 0x80; st.upper = 0xbf;
    st.cp = (st.cp << 6) | (b & 0x3f);
    if (++st.seen === st.needed) { const cp = st.cp; st.needed = 0; st.seen = 0; st.cp = 0; emit(cp); }
  }
  if (flush) {
    if (st.needed !== 0) { st.needed = 0; st.seen = 0; st.cp = 0; bad(); }
    st.started = false;
  }
  return unitsToString(out, w);
}

const makeTextEncoder = once(() => tagged(class TextEncoder {
  get encoding() { return 'utf-8'; }
  encode(input = '') { return utf8Encode(wellFormed(Str(input))); }
  encodeInto(source, destination) {
    if (taTagSafe(destination) !== 'Uint8Array') throw new TypeErr("TextEncoder.encodeInto: the destination must be a Uint8Array");
    const r = utf8Write(Str(source), destination, taCount(destination));
    return { read: r.read, written: r.written };
  }
}, 'TextEncoder'));

const UTF8_LABELS = nullProto({ 'utf-8': true, 'utf8': true, 'unicode-1-1-utf-8': true, 'unicode11utf8': true, 'unicode20utf8': true, 'x-unicode20utf8': true });
const isAsciiSpace = (c) => c === 9 || c === 10 || c === 12 || c === 13 || c === 32;
function trimAscii(s) {
  let a = 0, b = s.length;
  while (a < b && isAsciiSpace(charCode(s, a))) a++;
  while (b > a && isAsciiSpace(charCode(s, b - 1))) b--;
  return strSlice(s, a, b);
}

const makeTextDecoder = once(() => tagged(class TextDecoder {
  #fatal; #ignoreBOM; #state;
  constructor(label = 'utf-8', options = undefined) {
    const name = toLower(trimAscii(Str(label)));
    if (UTF8_LABELS[name] !== true) {
      throw new RangeErr("TextDecoder: the encoding '" + strSlice(Str(label), 0, 50) + "' is not supported in the sandbox; only utf-8 is");
    }
    const o = options === undefined || options === null ? create(null) : options;
    this.#fatal = !!o.fatal;
    this.#ignoreBOM = !!o.ignoreBOM;
    this.#state = utf8State();
  }
  get encoding() { return 'utf-8'; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }
  decode(input = undefined, options = undefined) {
    const st = this.#state;
    let bytes;
    if (input === undefined) bytes = new U8(0);
    else {
      bytes = bytesView(input);
      if (bytes === undefined) throw new TypeErr('TextDecoder.decode: the input must be an ArrayBuffer or an ArrayBufferView');
    }
    const stream = options !== undefined && options !== null && !!options.stream;
    return utf8Decode(bytes, st, this.#fatal, this.#ignoreBOM, !stream);
  }
}, 'TextDecoder'));

lazyGlobal('TextEncoder', makeTextEncoder);
lazyGlobal('TextDecoder', makeTextDecoder);
`
