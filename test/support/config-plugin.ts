// A small stand-in plugin for config tests: types shaped like the built-ins, so tests never depend on the real ones.
import {
  appPath, componentRef, dataPath, defineModuleType, definePlugin, defineStepType, defineTrigger, expressionOr, moduleRef,
  pipelineRef,
} from '@islet/sdk'
import { createRegistry, type Registry } from '../../runtime/plugins/registry.ts'

const server = defineModuleType({
  type: 'http.server',
  description: 'An HTTP listener.',
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
      host: { type: 'string', default: '127.0.0.1' },
      tls: { type: 'boolean', default: false },
      ratio: { type: 'number', default: 1 },
      routers: { type: 'array', items: moduleRef('an http.router module'), default: [] },
    },
  },
  create: () => ({}),
})

const router = defineModuleType({
  type: 'http.router',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['routes'],
    properties: {
      routes: {
        type: 'array',
        items: {
          type: 'object', additionalProperties: false, required: ['method', 'path', 'pipeline'],
          properties: {
            method: { enum: ['GET', 'POST', 'PUT', 'DELETE'] },
            path: { type: 'string', pattern: '^/', description: 'a URL path starting with /' },
            pipeline: pipelineRef(undefined, { trigger: 'http' }),
          },
        },
      },
    },
  },
  create: () => ({}),
})

const sqlite = defineModuleType({
  type: 'storage.sqlite',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['file'],
    properties: { file: dataPath(), migrations: appPath(), timeoutMs: { type: 'integer', default: 5000 } },
  },
  inputs: (config: { migrations?: string }, ctx) => (config.migrations ? [ctx.resolvePath(config.migrations)] : []),
  create: () => ({}),
})

const cache = defineModuleType({
  type: 'cache.memory',
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      ttl: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^[0-9]+(ms|s|m)$', description: 'a duration like 30s' }] },
      evict: {
        anyOf: [
          { type: 'object', additionalProperties: false, required: ['policy'],
            properties: { policy: { enum: ['lru', 'lfu'] }, max: { type: 'integer', minimum: 1 } } },
          { const: 'never' },
        ],
      },
    },
  },
  create: () => ({}),
})

const validate = defineStepType({
  type: 'validate',
  configSchema: { type: 'object', additionalProperties: false, required: ['schema'], properties: { schema: { type: 'object' } } },
  create: () => () => undefined,
})

const log = defineStepType({
  type: 'log',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['message'],
    properties: { message: { type: 'string' }, level: { enum: ['debug', 'info', 'warn'], default: 'info' } },
  },
  create: () => () => undefined,
})

const respond = defineStepType({
  type: 'respond',
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      status: { ...expressionOr({ type: 'integer', minimum: 100, maximum: 599 }), default: 200 },
      headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
      body: {},
    },
  },
  create: () => () => undefined,
})

const query = defineStepType({
  type: 'sql.query',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['db', 'sql'],
    properties: { db: moduleRef(), sql: { type: 'string' }, params: { type: 'object' } },
  },
  create: () => () => undefined,
})

const call = defineStepType({
  type: 'component.call',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['component'],
    properties: { component: componentRef('the component to run'), input: {} },
  },
  create: () => () => undefined,
})

/** Shaped like the built-in `http` trigger: its runs add these variables to input, meta, locals and steps. */
const http = defineTrigger({
  name: 'http', variables: ['body', 'params', 'query', 'headers', 'request'], fields: { request: ['id', 'method', 'path'] },
})

export const configTestPlugin = definePlugin({
  name: 'config-test', version: '1.0.0',
  triggers: [http],
  moduleTypes: [server, router, sqlite, cache],
  stepTypes: [validate, log, respond, query, call],
})

/** A fresh registry with the test plugin; `queue.kafka` and `kafka.publish` are known to come from `@acme/kafka`. */
export function createTestRegistry(): Registry {
  const registry = createRegistry({ catalogue: { 'queue.kafka': '@acme/kafka', 'kafka.publish': '@acme/kafka' } })
  registry.register(configTestPlugin)
  return registry
}
