// atob / btoa (HTML's forgiving base64), in the isolate: no worker call.
export const BASE64_GLOBALS = String.raw`
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => { const t = new U8(128); for (let i = 0; i < 128; i++) t[i] = 255; for (let i = 0; i < 64; i++) t[charCode(B64, i)] = i; return t; })();
function btoa(data) {
  if (arguments.length === 0) throw new TypeErr("btoa: 1 argument required, but only 0 present");
  const s = Str(data), n = s.length;
  const out = new U16(((n + 2) / 3 | 0) * 4);
  let w = 0;
  for (let i = 0; i < n; i += 3) {
    const a = charCode(s, i), b = i + 1 < n ? charCode(s, i + 1) : 0, c = i + 2 < n ? charCode(s, i + 2) : 0;
    if (a > 255 || b > 255 || c > 255) {
      throw domError('btoa: the string contains characters outside of the Latin1 range (encode it to UTF-8 bytes first, e.g. with TextEncoder)', 'InvalidCharacterError');
    }
    out[w++] = charCode(B64, a >> 2);
    out[w++] = charCode(B64, ((a & 3) << 4) | (b >> 4));
    out[w++] = i + 1 < n ? charCode(B64, ((b & 15) << 2) | (c >> 6)) : 61;
    out[w++] = i + 2 < n ? charCode(B64, c & 63) : 61;
  }
  return unitsToString(out, w);
}
function atob(data) {
  if (arguments.length === 0) throw new TypeErr("atob: 1 argument required, but only 0 present");
  const s = Str(data);
  const invalid = () => domError('atob: the string to be decoded is not correctly encoded (base64)', 'InvalidCharacterError');
  // The code units that count (ASCII whitespace removed), then '=' padding handled as the forgiving decoder does.
  const units = new U8(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = charCode(s, i);
    if (c === 9 || c === 10 || c === 12 || c === 13 || c === 32) continue;
    if (c > 127) throw invalid();
    units[n++] = c;
  }
  if (n % 4 === 0 && n > 0 && units[n - 1] === 61) { n--; if (units[n - 1] === 61) n--; }
  if (n % 4 === 1) throw invalid();
  const out = new U16((n * 3) >> 2);
  let w = 0, acc = 0, bits = 0;
  for (let i = 0; i < n; i++) {
    const v = B64_INDEX[units[i]];
    if (v === 255) throw invalid();
    acc = (acc << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out[w++] = (acc >> bits) & 255; }
  }
  return unitsToString(out, w);
}
lazyGlobal('btoa', () => btoa);
lazyGlobal('atob', () => atob);
`
