// The http.request step's config as the YAML writes it, and its schema.
import type { JsonSchema } from '@islet/sdk'

/** An origin as written: scheme://host[:port], an optional trailing slash, nothing else. */
const ORIGIN_PATTERN = '^https?://[^/?#@\\s]+/?$'

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS'

export interface HttpRequestConfig {
  readonly method?: HttpMethod
  /** May hold `${{ … }}` expressions. */
  readonly url: string
  /** The origins the request may reach, redirects included. */
  readonly allow: readonly string[]
  /** Those of `allow` that may be or resolve to loopback, private or other non-public addresses. */
  readonly privateOrigins?: readonly string[]
  readonly headers?: Readonly<Record<string, unknown>>
  readonly query?: Readonly<Record<string, unknown>>
  /** A string is sent as text; anything else as JSON. */
  readonly body?: unknown
  readonly timeoutMs?: number
  readonly retries?: number
  readonly retryDelayMs?: number
  readonly maxRetryDelayMs?: number
  readonly maxBytes?: number
  readonly maxRedirects?: number
  /** Statuses that count as success: codes (404) or classes ('2xx'). Default: 2xx. */
  readonly expect?: readonly (number | string)[]
  /** `never`: any status is output, none fails the step. */
  readonly failOn?: 'status' | 'never'
  readonly parse?: 'auto' | 'json' | 'text'
}

const int = (minimum: number, maximum: number, fallback: number, description: string) =>
  ({ type: 'integer', minimum, maximum, default: fallback, description })

export const httpRequestSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'allow'],
  properties: {
    method: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], default: 'GET' },
    url: { type: 'string', minLength: 1, description: 'absolute http(s) URL; may hold ${{ … }} expressions' },
    allow: { type: 'array', minItems: 1, items: { type: 'string', pattern: ORIGIN_PATTERN },
      description: 'origins (scheme://host[:port]) the request may reach, redirects included; any other is refused' },
    privateOrigins: { type: 'array', items: { type: 'string', pattern: ORIGIN_PATTERN },
      description: 'those of allow that may be or resolve to loopback or private addresses (a service of your own, a test server)' },
    headers: { type: 'object', additionalProperties: true, description: 'header name → value (text; may hold ${{ … }})' },
    query: { type: 'object', additionalProperties: true, description: 'query parameters added to the URL (an array value repeats the parameter; null leaves it out)' },
    body: { description: 'request body: a string is sent as text/plain, anything else as JSON (content-type set unless headers give one)' },
    timeoutMs: int(1, 600_000, 10_000, 'deadline of one attempt, redirects included'),
    retries: int(0, 10, 0, 'attempts after the first, on network errors, timeouts and 408/429/500/502/503/504; idempotent methods only'),
    retryDelayMs: int(1, 60_000, 200, 'first backoff delay; doubles per retry, with jitter'),
    maxRetryDelayMs: int(1, 600_000, 30_000, 'longest wait between attempts; a Retry-After asking for more ends the retries'),
    maxBytes: int(0, 1024 * 1024 * 1024, 1024 * 1024, 'largest response body read (counted as it streams); more fails the step'),
    maxRedirects: int(0, 20, 5, 'redirects followed, each checked against allow'),
    expect: { type: 'array', minItems: 1, items: { oneOf: [{ type: 'integer', minimum: 100, maximum: 599 }, { type: 'string', pattern: '^[1-5]xx$' }] },
      description: "statuses that succeed: codes or classes ('2xx'); default 2xx" },
    failOn: { enum: ['status', 'never'], default: 'status', description: 'never: output every response whatever its status' },
    parse: { enum: ['auto', 'json', 'text'], default: 'auto', description: 'auto: JSON when the content-type says so, else text' },
  },
}
