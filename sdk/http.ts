// The HTTP contracts: what http.server composes. Written against these, a third-party middleware (auth, rate limits)
// or router needs nothing but the sdk — no Koa types.
import { defineContract } from './contract.ts'
import type { Logger } from './logger.ts'
import type { AbortSignalLike, Pipeline } from './pipeline.ts'

/** The request as middleware sees it. The body is not read yet: the route decides its limit. */
export interface HttpRequestView {
  /** The request id (`X-Request-Id`, propagated or generated). */
  readonly id: string
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string | string[]>>
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The peer's address as the socket reports it. */
  readonly remoteAddress: string | undefined
  /**
   * The client's address: the socket's peer, or — only when the server's `trustProxy` says how many proxies stand in
   * front of it — the address those proxies report in X-Forwarded-For. What rate limits and logs key on.
   */
  readonly clientAddress: string | undefined
  /** The address the server was configured to listen on (`127.0.0.1`, `0.0.0.0`, `::`…). */
  readonly listenHost: string
  /** The request's HTTP version (`1.1`, `1.0`); absent where no wire request exists. */
  readonly httpVersion?: string
}

/** A response a middleware answers with, ending the request there. */
export interface HttpAnswer {
  status: number
  headers?: Record<string, string>
  /** JSON value, string, bytes (Uint8Array), or an async iterable of strings or bytes for a stream (server-sent events). */
  body?: unknown
}

/** What each middleware receives for one request. */
export interface HttpContext {
  readonly request: HttpRequestView
  /** The request's logger (carries the request id). */
  readonly logger: Logger
  /** Aborted when the client goes away or the request times out. */
  readonly signal: AbortSignalLike
  /**
   * Values for the rest of this request, e.g. the authenticated principal: pipelines read them as `${{ locals.… }}`.
   * Must be JSON values.
   */
  readonly locals: Record<string, unknown>
  /** The response as it stands: after `await next()`, what the rest of the chain answered. */
  readonly response: { readonly status: number; readonly headers: Readonly<Record<string, string>> }
  /** Sets a response header (kept when the rest of the chain answers). */
  setHeader(name: string, value: string): void
  /**
   * Reads the request body's bytes (once), at most `limit` of them: past it the request fails with 413
   * ERR_HTTP_BODY_TOO_LARGE. For middleware that answers requests itself (the admin API); routes read bodies
   * themselves.
   */
  readBody(options: { limit: number }): Promise<Uint8Array>
  /** Answers now; the rest of the chain does not run when this is called before `next()`. */
  respond(answer: HttpAnswer): void
  /**
   * Calls `listener` once the response has been sent, with what the client got (access logs, metrics). After
   * `await next()` the status is not final yet when the rest of the chain threw: the server maps errors further out.
   */
  onFinish(listener: (sent: HttpSent) => void): void
}

/** A response as it was sent. */
export interface HttpSent {
  readonly status: number
  /** The body's size from its Content-Length (0 when streamed or empty). */
  readonly bytes: number
}

export type HttpMiddleware = (ctx: HttpContext, next: () => Promise<void>) => void | Promise<void>

/** A module that contributes middleware to the servers that list it under `middleware`. */
export interface MiddlewareProvider {
  readonly middleware: HttpMiddleware
}

export interface RouteMatch {
  pipeline: Pipeline
  params: Record<string, string>
  bodyLimit?: number
  /**
   * Scopes the request's principal (`locals.principal`, see auth.ts) must all hold: without a principal the server
   * answers 401, with one that lacks any of them 403 — before the body is read or the pipeline runs.
   */
  requires?: readonly string[]
}

/** A module that maps method + path to a pipeline; servers list routers under `routers`. */
export interface RouterProvider {
  /** The matching route, or the methods the path accepts when only the method differs, or undefined. */
  match(method: string, path: string): RouteMatch | { allowed: string[] } | undefined
}

export const httpMiddleware = defineContract<MiddlewareProvider>('http.middleware', { middleware: 'function' },
  'contributes middleware to the http.server modules that list it under `middleware`')

export const httpRouter = defineContract<RouterProvider>('http.router', { match: 'function' },
  'maps method and path to a pipeline for the http.server modules that list it under `routers`')
