// The `http` trigger type: what an HTTP request hands the pipeline its route names. Runs also have the trigger-neutral
// `input` (the body), `meta` (method and path) and `locals` (what middleware attached).
import { defineTrigger } from '@islet/sdk'

export const HTTP_TRIGGER = 'http'

export default defineTrigger({
  name: HTTP_TRIGGER,
  description: 'An HTTP request routed by an http.router to a pipeline.',
  variables: ['body', 'params', 'query', 'headers', 'request'],
  fields: { request: ['id', 'method', 'path'] },
  meta: {
    type: 'object',
    properties: {
      method: { type: 'string', description: 'the request method, e.g. POST' },
      path: { type: 'string', description: 'the request path, without the query string' },
    },
  },
})
