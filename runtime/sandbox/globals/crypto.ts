// crypto.getRandomValues / randomUUID and crypto.subtle (digest SHA-1/256/384/512; HMAC importKey raw, generateKey,
// sign, verify, exportKey raw). Randomness and hashing are worker calls (worker-calls.ts): capped per call here before
// anything is copied, counted per invocation and charged to its CPU budget in the worker. Random bytes come from the
// worker in blocks of POOL bytes kept in this closure (a UUID is not a worker call each). Key bytes live in a private
// field of CryptoKey: no guest code can read them except through exportKey of an extractable key.
export const CRYPTO_GLOBALS = String.raw`
const POOL = 4096;
let pool = new U8(0), poolAt = 0;
function randomInto(target) {
  const n = taCount(target);
  if (n > POOL / 4) { taSet(target, latin1Bytes(workerCall('random', n))); return; }
  if (poolAt + n > taCount(pool)) { pool = latin1Bytes(workerCall('random', POOL)); poolAt = 0; }
  for (let i = 0; i < n; i++) target[i] = pool[poolAt + i];
  // Used bytes are overwritten: nothing handed out stays behind to be read again.
  for (let i = 0; i < n; i++) pool[poolAt + i] = 0;
  poolAt += n;
}
const INTEGER_VIEWS = nullProto({ Int8Array: true, Uint8Array: true, Uint8ClampedArray: true, Int16Array: true, Uint16Array: true,
  Int32Array: true, Uint32Array: true, BigInt64Array: true, BigUint64Array: true });
const HEX = '0123456789abcdef';
const toHex = (bytes) => { let s = ''; for (let i = 0; i < taCount(bytes); i++) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15]; return s; };
const HASH_NAMES = nullProto({ 'SHA-1': 'SHA-1', 'SHA-256': 'SHA-256', 'SHA-384': 'SHA-384', 'SHA-512': 'SHA-512' });
const HASH_BLOCK_BITS = nullProto({ 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 });
const KEY_USAGES = nullProto({ sign: true, verify: true });

// An algorithm identifier: a name, or an object with one (case-insensitive, as Web Crypto normalises it).
function algorithmName(algorithm) {
  const name = typeof algorithm === 'string' ? algorithm
    : algorithm !== null && typeof algorithm === 'object' ? algorithm.name : undefined;
  if (typeof name !== 'string') throw new TypeErr('Algorithm: a name is required (a string or { name })');
  return toUpper(name);
}
function hashName(algorithm) {
  const name = HASH_NAMES[algorithmName(algorithm)];
  if (name === undefined) throw domError('Unrecognized algorithm name (the sandbox has SHA-1, SHA-256, SHA-384, SHA-512)', 'NotSupportedError');
  return name;
}
// The data argument copied now (a later write by guest code cannot change what is hashed), within its cap.
function dataBuffer(data, what, cap) {
  const view = bytesView(data);
  if (view === undefined) throw new TypeErr(what + ': the data must be an ArrayBuffer or an ArrayBufferView');
  const n = taByteLength(view);
  if (n > cap) throw globalTooLarge(what + ': the data is ' + n + ' bytes, over the ' + cap + '-byte cap');
  return copyBuffer(view);
}

const makeCrypto = once(() => {
  class CryptoKey {
    #bytes; #algorithm; #extractable; #usages;
    constructor(token, bytes, hash, extractable, usages) {
      if (token !== ILLEGAL) throw new TypeErr('Illegal constructor');
      this.#bytes = bytes; this.#extractable = extractable; this.#usages = usages;
      this.#algorithm = freeze({ name: 'HMAC', hash: freeze({ name: hash }), length: taByteLength(bytes) * 8 });
    }
    get type() { return 'secret'; }
    get extractable() { return this.#extractable; }
    get algorithm() { return this.#algorithm; }
    get usages() { return listToArray(this.#usages); }
    static bytes(key, usage, what) {
      if (key === null || typeof key !== 'object' || !(#bytes in key)) throw new TypeErr(what + ': the key must be a CryptoKey');
      if (usage !== undefined) {
        let allowed = false;
        for (let i = 0; i < key.#usages.length; i++) if (key.#usages[i] === usage) allowed = true;
        if (!allowed) throw domError(what + ": the key's usages do not include '" + usage + "'", 'InvalidAccessError');
      }
      return key.#bytes;
    }
    static hash(key) { return key.#algorithm.hash.name; }
    static extractable(key) { return key.#extractable; }
  }
  tagged(CryptoKey, 'CryptoKey');
  const keyBytes = CryptoKey.bytes, keyHash = CryptoKey.hash, keyExtractable = CryptoKey.extractable;
  delete CryptoKey.bytes; delete CryptoKey.hash; delete CryptoKey.extractable;

  function usagesOf(list, what) {
    const usages = newList();
    const n = list === null || list === undefined ? 0 : list.length;
    for (let i = 0; i < n; i++) {
      const u = Str(list[i]);
      if (KEY_USAGES[u] !== true) throw domError(what + ": HMAC keys have the usages 'sign' and 'verify', not '" + strSlice(u, 0, 40) + "'", 'SyntaxError');
      listPush(usages, u);
    }
    if (usages.length === 0) throw domError(what + ': usages must not be empty', 'SyntaxError');
    return usages;
  }
  function hmacParams(algorithm, what) {
    if (algorithmName(algorithm) !== 'HMAC') throw domError(what + ': the sandbox supports HMAC keys only', 'NotSupportedError');
    if (algorithm === null || typeof algorithm !== 'object' || algorithm.hash === undefined) throw new TypeErr(what + ': HMAC needs a hash ({ name: "HMAC", hash: "SHA-256" })');
    const params = create(null);
    params.hash = hashName(algorithm.hash);
    params.length = algorithm.length;
    return params;
  }
  function hmac(key, data, what, usage) {
    const bytes = keyBytes(key, usage, what);
    return latin1Bytes(workerCall('hmac', keyHash(key), copyBuffer(bytes), dataBuffer(data, what, GLOBAL_LIMITS.digestBytes)));
  }
  const checkHmac = (algorithm, key, what) => {
    if (algorithmName(algorithm) !== 'HMAC') throw domError(what + ': the sandbox supports HMAC only', 'NotSupportedError');
  };

  class SubtleCrypto {
    constructor(token) { if (token !== ILLEGAL) throw new TypeErr('Illegal constructor'); }
    async digest(algorithm, data) {
      const name = hashName(algorithm);
      return taBuffer(latin1Bytes(workerCall('digest', name, dataBuffer(data, 'crypto.subtle.digest', GLOBAL_LIMITS.digestBytes))));
    }
    async importKey(format, keyData, algorithm, extractable, keyUsages) {
      if (format !== 'raw') throw domError("crypto.subtle.importKey: the sandbox imports 'raw' keys only", 'NotSupportedError');
      const params = hmacParams(algorithm, 'crypto.subtle.importKey');
      const usages = usagesOf(keyUsages, 'crypto.subtle.importKey');
      const view = bytesView(keyData);
      if (view === undefined) throw new TypeErr('crypto.subtle.importKey: keyData must be an ArrayBuffer or an ArrayBufferView');
      const n = taByteLength(view);
      if (n > GLOBAL_LIMITS.keyBytes) throw globalTooLarge('crypto.subtle.importKey: the key is ' + n + ' bytes, over the ' + GLOBAL_LIMITS.keyBytes + '-byte cap');
      if (n === 0) throw domError('crypto.subtle.importKey: the key is empty', 'DataError');
      return new CryptoKey(ILLEGAL, new U8(copyBuffer(view)), params.hash, !!extractable, usages);
    }
    async generateKey(algorithm, extractable, keyUsages) {
      const params = hmacParams(algorithm, 'crypto.subtle.generateKey');
      const usages = usagesOf(keyUsages, 'crypto.subtle.generateKey');
      const bits = params.length === undefined ? HASH_BLOCK_BITS[params.hash] : params.length;
      if (typeof bits !== 'number' || !(bits > 0) || bits % 8 !== 0 || bits / 8 > GLOBAL_LIMITS.keyBytes) {
        throw domError('crypto.subtle.generateKey: length must be a positive multiple of 8 bits', 'OperationError');
      }
      const bytes = new U8(bits / 8);
      randomInto(bytes);
      return new CryptoKey(ILLEGAL, bytes, params.hash, !!extractable, usages);
    }
    async exportKey(format, key) {
      const bytes = keyBytes(key, undefined, 'crypto.subtle.exportKey');
      if (format !== 'raw') throw domError("crypto.subtle.exportKey: the sandbox exports 'raw' keys only", 'NotSupportedError');
      if (!keyExtractable(key)) throw domError('crypto.subtle.exportKey: the key is not extractable', 'InvalidAccessError');
      return copyBuffer(bytes);
    }
    async sign(algorithm, key, data) {
      checkHmac(algorithm, key, 'crypto.subtle.sign');
      return taBuffer(hmac(key, data, 'crypto.subtle.sign', 'sign'));
    }
    async verify(algorithm, key, signature, data) {
      checkHmac(algorithm, key, 'crypto.subtle.verify');
      const given = bytesView(signature);
      if (given === undefined) throw new TypeErr('crypto.subtle.verify: the signature must be an ArrayBuffer or an ArrayBufferView');
      const expected = hmac(key, data, 'crypto.subtle.verify', 'verify');
      if (taByteLength(given) !== taCount(expected)) return false;
      let diff = 0;
      for (let i = 0; i < taCount(expected); i++) diff |= expected[i] ^ given[i];
      return diff === 0;
    }
  }
  tagged(SubtleCrypto, 'SubtleCrypto');
  const subtle = new SubtleCrypto(ILLEGAL);

  class Crypto {
    constructor(token) { if (token !== ILLEGAL) throw new TypeErr('Illegal constructor'); }
    get subtle() { return subtle; }
    getRandomValues(array) {
      const tag = isView(array) ? taTagSafe(array) : undefined;
      if (tag === undefined) throw new TypeErr('crypto.getRandomValues: the argument must be an integer typed array');
      if (INTEGER_VIEWS[tag] !== true) throw domError('crypto.getRandomValues: ' + tag + ' is not an integer typed array', 'TypeMismatchError');
      const n = taByteLength(array);
      if (n > GLOBAL_LIMITS.randomBytes) {
        throw domError("crypto.getRandomValues: the ArrayBufferView's byte length (" + n + ') exceeds the number of bytes of entropy available via this API (' + GLOBAL_LIMITS.randomBytes + ')', 'QuotaExceededError');
      }
      if (n > 0) randomInto(new U8(taBuffer(array), taOffset(array), n));
      return array;
    }
    randomUUID() {
      const b = new U8(16);
      randomInto(b);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = toHex(b);
      return strSlice(h, 0, 8) + '-' + strSlice(h, 8, 12) + '-' + strSlice(h, 12, 16) + '-' + strSlice(h, 16, 20) + '-' + strSlice(h, 20);
    }
  }
  tagged(Crypto, 'Crypto');
  const crypto = new Crypto(ILLEGAL);
  const all = create(null);
  all.crypto = crypto; all.Crypto = Crypto; all.SubtleCrypto = SubtleCrypto; all.CryptoKey = CryptoKey;
  return all;
});
lazyGlobal('crypto', () => makeCrypto().crypto);
lazyGlobal('Crypto', () => makeCrypto().Crypto);
lazyGlobal('SubtleCrypto', () => makeCrypto().SubtleCrypto);
lazyGlobal('CryptoKey', () => makeCrypto().CryptoKey);
`
