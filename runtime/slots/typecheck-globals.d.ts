// The isolate's globals, as the type check sees them, until sdk/globals.d.ts (written with the globals themselves)
// exists: typecheck.ts uses that file when it is there and this one otherwise. Keep it to what the isolate provides.
// No DOM, no Node: generated code reaching for `process`, `Buffer` or `require` must fail the type check.

interface Console {
  log(...data: unknown[]): void
  info(...data: unknown[]): void
  warn(...data: unknown[]): void
  error(...data: unknown[]): void
  debug(...data: unknown[]): void
}
declare var console: Console

declare class URLSearchParams {
  constructor(init?: string | Record<string, string> | [string, string][] | URLSearchParams)
  append(name: string, value: string): void
  delete(name: string): void
  get(name: string): string | null
  getAll(name: string): string[]
  has(name: string): boolean
  set(name: string, value: string): void
  toString(): string
  forEach(callback: (value: string, key: string) => void): void
  [Symbol.iterator](): IterableIterator<[string, string]>
}
declare class URL {
  constructor(url: string | URL, base?: string | URL)
  static canParse(url: string, base?: string): boolean
  hash: string; host: string; hostname: string; href: string; password: string; pathname: string; port: string
  protocol: string; search: string; username: string
  readonly origin: string
  readonly searchParams: URLSearchParams
  toString(): string
  toJSON(): string
}
declare class TextEncoder {
  readonly encoding: string
  encode(input?: string): Uint8Array
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean })
  readonly encoding: string
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string
}
declare function atob(data: string): string
declare function btoa(data: string): string
declare function structuredClone<T>(value: T): T

interface CryptoKey { readonly type: string; readonly algorithm: unknown; readonly extractable: boolean; readonly usages: string[] }
interface SubtleCrypto {
  digest(algorithm: string | { name: string }, data: ArrayBufferView | ArrayBuffer): Promise<ArrayBuffer>
  importKey(format: 'raw', keyData: ArrayBufferView | ArrayBuffer, algorithm: { name: 'HMAC'; hash: string | { name: string } }, extractable: boolean, usages: string[]): Promise<CryptoKey>
  sign(algorithm: string | { name: string }, key: CryptoKey, data: ArrayBufferView | ArrayBuffer): Promise<ArrayBuffer>
  verify(algorithm: string | { name: string }, key: CryptoKey, signature: ArrayBufferView | ArrayBuffer, data: ArrayBufferView | ArrayBuffer): Promise<boolean>
}
interface Crypto {
  readonly subtle: SubtleCrypto
  getRandomValues<T extends ArrayBufferView>(array: T): T
  randomUUID(): string
}
declare var crypto: Crypto

declare function setTimeout(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): number
declare function clearTimeout(id: number | undefined): void

declare class AbortSignal {
  readonly aborted: boolean
  readonly reason: unknown
  throwIfAborted(): void
  addEventListener(type: 'abort', listener: () => void): void
  removeEventListener(type: 'abort', listener: () => void): void
  static timeout(ms: number): AbortSignal
  static any(signals: AbortSignal[]): AbortSignal
  static abort(reason?: unknown): AbortSignal
}
declare class AbortController {
  readonly signal: AbortSignal
  abort(reason?: unknown): void
}

type HeadersInit = Headers | Record<string, string> | [string, string][]
type BodyInit = string | Uint8Array | ArrayBuffer | URLSearchParams
declare class Headers {
  constructor(init?: HeadersInit)
  append(name: string, value: string): void
  delete(name: string): void
  get(name: string): string | null
  has(name: string): boolean
  set(name: string, value: string): void
  forEach(callback: (value: string, key: string) => void): void
  [Symbol.iterator](): IterableIterator<[string, string]>
}
interface RequestInit { method?: string; headers?: HeadersInit; body?: BodyInit | null; signal?: AbortSignal; redirect?: 'follow' | 'error' | 'manual' }
declare class Request {
  constructor(input: string | URL | Request, init?: RequestInit)
  readonly method: string
  readonly url: string
  readonly headers: Headers
  readonly signal: AbortSignal
  text(): Promise<string>
  json(): Promise<any>
}
interface ResponseInit { status?: number; statusText?: string; headers?: HeadersInit }
declare class Response {
  constructor(body?: BodyInit | null, init?: ResponseInit)
  static json(data: unknown, init?: ResponseInit): Response
  readonly status: number
  readonly statusText: string
  readonly ok: boolean
  readonly url: string
  readonly headers: Headers
  text(): Promise<string>
  json(): Promise<any>
  arrayBuffer(): Promise<ArrayBuffer>
}
declare function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
