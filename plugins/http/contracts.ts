// What http modules expose to each other: the server composes middleware providers and routers by module name.

/** State the server keeps on every Koa context. */
export interface RequestState {
  requestId: string
  logger: import('@islet/sdk').Logger
  /** What middleware attached for the rest of the request (`HttpContext.locals`); absent until one touches it. */
  locals?: Record<string, unknown>
}

// The contracts themselves are the sdk's (sdk/http.ts): middleware written against them needs no Koa.
export type { MiddlewareProvider, RouteMatch, RouterProvider } from '@islet/sdk'
