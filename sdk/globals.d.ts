// The globals a component's code can use inside its isolate, and nothing more: no DOM, no Node. The deploy
// type-check (runtime/slots/typecheck) compiles components against lib es2024 + the sdk + this file. A script
// declaration file (no import/export): every declaration here is global. Kept out of the root tsconfig, whose
// @types/node declares its own URL, TextEncoder, crypto…; the sdk's tsconfig (no ambient types) includes it.
//
// Each name here exists in every isolate (runtime/sandbox/globals/*.ts); a declaration without an implementation
// would let generated code type-check and then fail with "X is not defined".

// ─── part A (globals-a): URL, URLSearchParams, TextEncoder/TextDecoder, atob/btoa, structuredClone, crypto,
//     DOMException ─────────────────────────────────────────────────────────────────────────────────────────────

type BufferSource = ArrayBufferView | ArrayBuffer

/** WHATWG URL, parsed by the sandbox worker (inputs over 1 MiB characters: ERR_GLOBAL_ARGUMENT_TOO_LARGE). */
interface URL {
  hash: string
  host: string
  hostname: string
  href: string
  readonly origin: string
  password: string
  pathname: string
  port: string
  protocol: string
  search: string
  readonly searchParams: URLSearchParams
  username: string
  toString(): string
  toJSON(): string
}
declare var URL: {
  prototype: URL
  new (url: string | URL, base?: string | URL): URL
  canParse(url: string | URL, base?: string | URL): boolean
  parse(url: string | URL, base?: string | URL): URL | null
}

interface URLSearchParams {
  readonly size: number
  append(name: string, value: string): void
  delete(name: string, value?: string): void
  get(name: string): string | null
  getAll(name: string): string[]
  has(name: string, value?: string): boolean
  set(name: string, value: string): void
  sort(): void
  toString(): string
  forEach(callbackfn: (value: string, key: string, parent: URLSearchParams) => void, thisArg?: any): void
  entries(): IterableIterator<[string, string]>
  keys(): IterableIterator<string>
  values(): IterableIterator<string>
  [Symbol.iterator](): IterableIterator<[string, string]>
}
declare var URLSearchParams: {
  prototype: URLSearchParams
  new (init?: string[][] | Record<string, string> | string | URLSearchParams | Iterable<readonly [string, string]>): URLSearchParams
}

interface TextEncoderEncodeIntoResult {
  read: number
  written: number
}
/** UTF-8 only. */
interface TextEncoder {
  readonly encoding: string
  encode(input?: string): Uint8Array<ArrayBuffer>
  encodeInto(source: string, destination: Uint8Array): TextEncoderEncodeIntoResult
}
declare var TextEncoder: {
  prototype: TextEncoder
  new (): TextEncoder
}

interface TextDecoderOptions {
  fatal?: boolean
  ignoreBOM?: boolean
}
interface TextDecodeOptions {
  stream?: boolean
}
/** UTF-8 only: any other label throws a RangeError. */
interface TextDecoder {
  readonly encoding: string
  readonly fatal: boolean
  readonly ignoreBOM: boolean
  decode(input?: BufferSource, options?: TextDecodeOptions): string
}
declare var TextDecoder: {
  prototype: TextDecoder
  new (label?: string, options?: TextDecoderOptions): TextDecoder
}

/** Base64 of a Latin1 string (a character above U+00FF throws an InvalidCharacterError DOMException). */
declare function btoa(data: string): string
/** The Latin1 string a base64 text encodes (whitespace ignored; bad input: InvalidCharacterError). */
declare function atob(data: string): string

interface StructuredSerializeOptions {
  transfer?: ArrayBuffer[]
}
/** A deep copy: plain data, Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView, errors, cycles. Functions, symbols and class behaviour do not survive (DataCloneError / plain objects). */
declare function structuredClone<T = any>(value: T, options?: StructuredSerializeOptions): T

interface DOMException extends Error {
  readonly code: number
  readonly message: string
  readonly name: string
}
declare var DOMException: {
  prototype: DOMException
  new (message?: string, name?: string): DOMException
}

type HashAlgorithmIdentifier = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | { name: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' } | (string & {})
interface HmacImportParams {
  name: 'HMAC'
  hash: HashAlgorithmIdentifier
  length?: number
}
type HmacKeyGenParams = HmacImportParams
type KeyUsage = 'sign' | 'verify'
interface KeyAlgorithm {
  name: string
}
interface HmacKeyAlgorithm extends KeyAlgorithm {
  hash: KeyAlgorithm
  length: number
}
/** An HMAC secret key: its bytes are readable only through exportKey('raw') when it was made extractable. */
interface CryptoKey {
  readonly algorithm: HmacKeyAlgorithm
  readonly extractable: boolean
  readonly type: 'secret'
  readonly usages: KeyUsage[]
}
declare var CryptoKey: {
  prototype: CryptoKey
}

/** Web Crypto as far as the sandbox has it: digests (data up to 16 MiB) and HMAC (raw keys up to 64 KiB). */
interface SubtleCrypto {
  digest(algorithm: HashAlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>
  importKey(format: 'raw', keyData: BufferSource, algorithm: HmacImportParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>
  generateKey(algorithm: HmacKeyGenParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>
  exportKey(format: 'raw', key: CryptoKey): Promise<ArrayBuffer>
  sign(algorithm: 'HMAC' | { name: 'HMAC' }, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>
  verify(algorithm: 'HMAC' | { name: 'HMAC' }, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>
}
declare var SubtleCrypto: {
  prototype: SubtleCrypto
}

interface Crypto {
  readonly subtle: SubtleCrypto
  /** Fills an integer typed array of at most 65,536 bytes (more: QuotaExceededError). */
  getRandomValues<T extends Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array>(array: T): T
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`
}
declare var Crypto: {
  prototype: Crypto
}
declare var crypto: Crypto

// ─── end of part A ──────────────────────────────────────────────────────────────────────────────────────────────
