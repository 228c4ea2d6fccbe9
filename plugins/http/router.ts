// Module type `http.router`: routes (method + path with :params) → pipelines, matched by a radix tree once built.
import type { HTTPMethod } from 'find-my-way'
import { defineModuleType, httpRouter, messageOf, moduleRef, pipelineRef, type Pipeline } from '@islet/sdk'
import type { RouteMatch, RouterProvider } from './contracts.ts'
import { HttpError } from './errors.ts'
import { httpExecutions } from './executions.ts'
import { recordedPipeline, type ExecutionMode } from './recorded-route.ts'
import { parseSize, SIZE_SCHEMA } from './size.ts'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

export interface RouteConfig {
  method: (typeof METHODS)[number]
  path: string
  pipeline: string
  bodyLimit?: number | string
  requires?: string[]
  execution?: ExecutionMode
}

export interface RouterConfig {
  prefix: string
  routes: RouteConfig[]
  executions?: string
}

interface RouteStore {
  pipeline: Pipeline
  bodyLimit?: number
  requires?: readonly string[]
}

export default defineModuleType<RouterConfig, RouterProvider>({
  type: 'http.router',
  description: 'Maps HTTP routes to pipelines. List it under a server\'s `routers`.',
  provides: [httpRouter],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['routes'],
    // An async route answers with where to watch its execution: the http.executions module that serves them.
    if: { properties: { routes: { type: 'array', contains: { type: 'object', required: ['execution'], properties: { execution: { const: 'async' } } } } } },
    then: { properties: { executions: { type: 'string', description: 'a route has execution: async, whose 202 links to an http.executions module: name it here' } }, required: ['executions'] },
    properties: {
      prefix: { type: 'string', default: '', pattern: '^(/[^/\\s]+)*$', description: 'prepended to every path, e.g. /api' },
      executions: moduleRef('the http.executions module an execution: async route\'s 202 links to (required when a route is async)', httpExecutions),
      routes: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['method', 'path', 'pipeline'],
          properties: {
            method: { enum: [...METHODS], description: 'HTTP method' },
            path: { type: 'string', pattern: '^/', description: 'path with :params, e.g. /orders/:id' },
            pipeline: pipelineRef('the pipeline that answers this route', { trigger: 'http' }),
            bodyLimit: { ...SIZE_SCHEMA, description: 'overrides the server bodyLimit for this route' },
            requires: {
              type: 'array', uniqueItems: true, maxItems: 32,
              items: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
              description: 'scopes the caller must all hold (checked against locals.principal, which an auth middleware such as ' +
                'auth.apikey or auth.jwt sets): no principal → 401 ERR_HTTP_UNAUTHENTICATED, a scope missing → 403 ERR_HTTP_FORBIDDEN',
            },
            execution: {
              enum: ['async', 'record'],
              description: 'async: the pipeline runs in the background as a recorded execution and the route answers 202 {execution, status, links} ' +
                'with Location (the router\'s executions: module serves it); record: the route answers as usual and the run is recorded too ' +
                '(X-Execution-Id names it)',
            },
          },
        },
      },
    },
  },
  async create(config, ctx) {
    // Loaded here, not with the declaration: `islet validate` and `islet schema` need only the schema above.
    const { default: FindMyWay } = await import('find-my-way')
    const tree = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true })
    const handler = () => {}
    // Only a router with recorded routes asks for the service (and the executions module), at create.
    const recorded = config.routes.some((r) => r.execution !== undefined)
      ? { executions: ctx.service('executions'), links: config.executions === undefined ? undefined : ctx.module(config.executions, httpExecutions) }
      : undefined
    config.routes.forEach((route, i) => {
      const path = config.prefix + route.path
      const pipeline = ctx.pipeline(route.pipeline)
      const store: RouteStore = {
        pipeline: route.execution && recorded ? recordedPipeline(pipeline, route.execution, recorded.executions, recorded.links) : pipeline,
        bodyLimit: route.bodyLimit === undefined ? undefined : parseSize(route.bodyLimit),
        requires: route.requires?.length ? Object.freeze([...route.requires]) : undefined,
      }
      try {
        tree.on(route.method, path, handler, store)
      } catch (error) {
        throw new HttpError('ERR_HTTP_ROUTE_CONFLICT',
          `router '${ctx.name}': routes.${i} (${route.method} ${path}) conflicts with an earlier route: ${messageOf(error)}`,
          { router: ctx.name, route: i, method: route.method, path }, error)
      }
    })
    const methods = [...new Set(config.routes.map((r) => r.method))]
    return {
      match(method: string, path: string): RouteMatch | { allowed: string[] } | undefined {
        const found = tree.find(method as HTTPMethod, path)
        if (found) {
          const store = found.store as RouteStore
          return { pipeline: store.pipeline, params: found.params as Record<string, string>, bodyLimit: store.bodyLimit, requires: store.requires }
        }
        // Only on a miss: which other methods would this path accept? (for a 405 with Allow)
        const allowed = methods.filter((m) => m !== method && tree.find(m, path))
        return allowed.length > 0 ? { allowed } : undefined
      },
    }
  },
})
