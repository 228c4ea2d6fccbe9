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

// ---- globals part B: timers, abort, console, fetch (runtime/sandbox/globals/{timers,abort,console,fetch}.ts) ----

/**
 * Runs `callback(...args)` after `delay` ms, as part of the invocation that called it (its CPU and time limits).
 * Throws an Error with code ERR_SANDBOX_TIMER when the delay ends past the invocation's deadline, when the invocation
 * already has 100 pending timers, or at module top level (no invocation). Pending timers are dropped when the
 * invocation ends (execute settles) or is cancelled. An exception thrown by the callback fails the invocation.
 */
declare function setTimeout(callback: (...args: any[]) => void, delay?: number, ...args: any[]): number
declare function clearTimeout(id: number | undefined): void

interface Console {
  /** Level info. `console.info('message', { fields })` logs like `ctx.log.info(message, fields)`. */
  log(...data: unknown[]): void
  info(...data: unknown[]): void
  warn(...data: unknown[]): void
  error(...data: unknown[]): void
  debug(...data: unknown[]): void
}
/** Writes to the component's log, with the caps and rate limit of ctx.log. */
declare var console: Console


interface EventInit {
  bubbles?: boolean
  cancelable?: boolean
}
interface Event {
  readonly type: string
  readonly target: EventTarget | null
  readonly currentTarget: EventTarget | null
  readonly bubbles: boolean
  readonly cancelable: boolean
  readonly defaultPrevented: boolean
  readonly eventPhase: number
  readonly isTrusted: boolean
  readonly timeStamp: number
  preventDefault(): void
  stopPropagation(): void
  stopImmediatePropagation(): void
  composedPath(): EventTarget[]
}
declare var Event: { prototype: Event; new (type: string, init?: EventInit): Event }

interface EventListenerObject { handleEvent(event: Event): void }
type EventListenerOrEventListenerObject = ((event: Event) => void) | EventListenerObject
interface AddEventListenerOptions {
  capture?: boolean
  once?: boolean
  signal?: AbortSignal
}
interface EventTarget {
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | { capture?: boolean }): void
  dispatchEvent(event: Event): boolean
}
declare var EventTarget: { prototype: EventTarget; new (): EventTarget }

interface AbortSignal extends EventTarget {
  readonly aborted: boolean
  readonly reason: any
  onabort: ((this: AbortSignal, event: Event) => any) | null
  throwIfAborted(): void
}
declare var AbortSignal: {
  prototype: AbortSignal
  /** A signal already aborted with `reason` (default: an AbortError DOMException). */
  abort(reason?: any): AbortSignal
  /**
   * Aborts with a TimeoutError DOMException after `ms`, as a timer of the running invocation (one of its 100). A delay
   * past the invocation's deadline arms nothing: the invocation ends first.
   */
  timeout(ms: number): AbortSignal
  any(signals: Iterable<AbortSignal>): AbortSignal
}

interface AbortController {
  readonly signal: AbortSignal
  abort(reason?: any): void
}
declare var AbortController: { prototype: AbortController; new (): AbortController }


type HeadersInit = Headers | Record<string, string> | Iterable<readonly [string, string]>
/** What the fetch capability can carry: text. Bytes must be valid UTF-8 (else a TypeError). */
type BodyInit = string | URLSearchParams | ArrayBuffer | ArrayBufferView

interface Headers {
  append(name: string, value: string): void
  delete(name: string): void
  get(name: string): string | null
  /** Always empty: set-cookie is never shown to a component. */
  getSetCookie(): string[]
  has(name: string): boolean
  set(name: string, value: string): void
  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void
  entries(): IterableIterator<[string, string]>
  keys(): IterableIterator<string>
  values(): IterableIterator<string>
  [Symbol.iterator](): IterableIterator<[string, string]>
}
declare var Headers: { prototype: Headers; new (init?: HeadersInit): Headers }

interface Body {
  /** Always null: bodies are not streams in the sandbox; use text(), json(), arrayBuffer() or bytes(). */
  readonly body: null
  readonly bodyUsed: boolean
  text(): Promise<string>
  json(): Promise<any>
  /** The UTF-8 encoding of the text body (a response body arrives as UTF-8 text: binary does not survive). */
  arrayBuffer(): Promise<ArrayBuffer>
  bytes(): Promise<Uint8Array<ArrayBuffer>>
}

interface RequestInit {
  method?: string
  headers?: HeadersInit
  body?: BodyInit | null
  signal?: AbortSignal | null
  /** Only 'follow': the capability follows redirects itself, checking every hop against the grant. */
  redirect?: 'follow'
}
interface Request extends Body {
  readonly url: string
  readonly method: string
  readonly headers: Headers
  readonly signal: AbortSignal
  readonly redirect: 'follow'
  clone(): Request
}
declare var Request: { prototype: Request; new (input: string | { toString(): string } | Request, init?: RequestInit): Request }

interface ResponseInit {
  status?: number
  statusText?: string
  headers?: HeadersInit
}
interface Response extends Body {
  readonly status: number
  readonly ok: boolean
  /** Empty for fetched responses (the capability does not carry it). */
  readonly statusText: string
  readonly headers: Headers
  readonly url: string
  /** Whether the final URL differs from the request's (after redirects the engine followed). */
  readonly redirected: boolean
  readonly type: 'basic' | 'default' | 'error'
  clone(): Response
}
declare var Response: {
  prototype: Response
  new (body?: BodyInit | null, init?: ResponseInit): Response
  json(data: unknown, init?: ResponseInit): Response
  error(): Response
  redirect(url: string, status?: number): Response
}

/**
 * The standard fetch over the component's fetch grant (the same rules as ctx.fetch): ungranted → rejects with an
 * Error whose code is ERR_CAPABILITY_DENIED; a failed request rejects with ERR_FETCH_FAILED / ERR_FETCH_TOO_LARGE /
 * ERR_FETCH_INVALID_REQUEST; an aborted signal rejects with its reason (an AbortError DOMException by default).
 */
declare function fetch(input: string | { toString(): string } | Request, init?: RequestInit): Promise<Response>
