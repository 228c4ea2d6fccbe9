// The globals a component's code has inside its isolate, beyond the ECMAScript built-ins: exactly what the sandbox
// bootstrap provides (runtime/sandbox/globals/), nothing from the DOM or Node. The deploy type check reads this file.
// Sections: part A (URL, encoding, base64, structuredClone, crypto) above, part B below; kept apart for the merge.

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

interface DOMException extends Error {
  readonly name: string
  readonly message: string
  /** The legacy code of the name (AbortError 20, TimeoutError 23, DataCloneError 25), else 0. */
  readonly code: number
}
declare var DOMException: {
  prototype: DOMException
  new (message?: string, name?: string): DOMException
  readonly ABORT_ERR: 20
  readonly TIMEOUT_ERR: 23
  readonly DATA_CLONE_ERR: 25
}

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

/**
 * Merges with part A's URLSearchParams (a fetch body may be one, sent as application/x-www-form-urlencoded). One
 * method, so that a plain object is not mistaken for one before the merge.
 */
interface URLSearchParams { has(name: string, value?: string): boolean }

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
