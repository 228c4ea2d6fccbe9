// What http modules expose to each other: the server composes middleware providers and routers by module name.
import type { Middleware } from 'koa'
import type { Pipeline } from '@islet/sdk'

/** State the server keeps on every Koa context. */
export interface RequestState {
  requestId: string
  logger: import('@islet/sdk').Logger
  /** What middleware attached for the rest of the request (`HttpContext.locals`); absent until one touches it. */
  locals?: Record<string, unknown>
}

/** A module that contributes Koa middleware to the servers that list it under `middleware`. */
export interface MiddlewareProvider {
  readonly middleware: Middleware<RequestState>
}

export interface RouteMatch {
  pipeline: Pipeline
  params: Record<string, string>
  bodyLimit?: number
}

/** A module that maps method + path to a pipeline; servers list routers under `routers`. */
export interface RouterProvider {
  /** The matching route, or the methods the path accepts when only the method differs, or undefined. */
  match(method: string, path: string): RouteMatch | { allowed: string[] } | undefined
}

export function isMiddlewareProvider(value: object): value is MiddlewareProvider {
  return typeof (value as MiddlewareProvider).middleware === 'function'
}

export function isRouterProvider(value: object): value is RouterProvider {
  return typeof (value as RouterProvider).match === 'function'
}
