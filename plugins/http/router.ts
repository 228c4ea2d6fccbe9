// Module type `http.router`: routes (method + path with :params) → pipelines, matched by a radix tree once built.
import type { HTTPMethod } from 'find-my-way'
import { defineModuleType, httpRouter, messageOf, pipelineRef, type Pipeline } from '@islet/sdk'
import type { RouteMatch, RouterProvider } from './contracts.ts'
import { HttpError } from './errors.ts'
import { parseSize, SIZE_SCHEMA } from './size.ts'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

export interface RouteConfig {
  method: (typeof METHODS)[number]
  path: string
  pipeline: string
  bodyLimit?: number | string
  requires?: string[]
}

export interface RouterConfig {
  prefix: string
  routes: RouteConfig[]
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
    properties: {
      prefix: { type: 'string', default: '', pattern: '^(/[^/\\s]+)*$', description: 'prepended to every path, e.g. /api' },
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
    config.routes.forEach((route, i) => {
      const path = config.prefix + route.path
      const store: RouteStore = {
        pipeline: ctx.pipeline(route.pipeline),
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
