// What the slot routes read from a request besides the path: the JSON or multipart body and the query, each checked
// strictly with a 400 that names the field and says how to fix it. Strict on purpose: a mistyped `?dryrun=1` read
// as nothing would stage and perhaps promote a version its sender meant only to check.
import type { DeployRequest, HttpContext } from '@islet/sdk'
import { jsonNestsDeeper } from '../../plugins/core/json-depth.ts'
import { IsletError } from '../errors.ts'
import { didYouMean } from '../suggest.ts'
import { multipartBoundary, parseMultipart } from './multipart.ts'

/** The largest deploy body: the files' own caps (512 KiB in all) with room for JSON escaping or multipart framing. */
export const DEPLOY_BODY_LIMIT = 1024 * 1024
/** The largest body of the other POST routes (an invoke's input, a rollback's target). */
export const SMALL_BODY_LIMIT = 256 * 1024
const MAX_JSON_DEPTH = 256
const MAX_MESSAGE = 4096

export function badRequest(field: string, message: string, details: Record<string, unknown> = {}): IsletError {
  return new IsletError('ERR_ADMIN_BAD_REQUEST', message, { details: { field, ...details } })
}

/** The query of a route, refused when it holds a parameter the route does not take or one twice. */
export function checkQuery(query: HttpContext['request']['query'], allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(query)) {
    if (!allowed.includes(name)) {
      const hint = didYouMean(name, allowed)
      throw badRequest(name, `unknown query parameter '${name}'${hint ? ` (${hint})` : allowed.length ? ` (this route takes ${allowed.join(', ')})` : ' (this route takes none)'}`)
    }
    if (Array.isArray(value)) throw badRequest(name, `query parameter '${name}' is given ${value.length} times; give it once`)
    out[name] = value
  }
  return out
}

/** `?dryRun`, `?dryRun=1|true` → true; `0|false` → false; absent → undefined. */
export function flag(query: Record<string, string>, name: string): boolean | undefined {
  const value = query[name]
  if (value === undefined) return undefined
  if (value === '' || value === '1' || value === 'true') return true
  if (value === '0' || value === 'false') return false
  throw badRequest(name, `query parameter '${name}' is '${value.slice(0, 40)}'; use ${name}=1 or ${name}=0`)
}

/** A non-negative integer query parameter, or undefined when absent. */
export function integer(query: Record<string, string>, name: string, bounds: { min: number; max: number }): number | undefined {
  const value = query[name]
  if (value === undefined) return undefined
  const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN
  if (!(n >= bounds.min && n <= bounds.max)) {
    throw badRequest(name, `query parameter '${name}' is '${value.slice(0, 40)}'; give an integer from ${bounds.min} to ${bounds.max}`)
  }
  return n
}

/** A version id from the path or a body: 1, 2, 3… */
export function versionId(text: unknown, field: string): number {
  const n = typeof text === 'number' ? text : typeof text === 'string' && /^[1-9]\d{0,14}$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(n) || n < 1) {
    throw badRequest(field, `${field} is ${JSON.stringify(text)?.slice(0, 40)}: version ids are the integers 1, 2, 3… that GET …/versions lists`)
  }
  return n
}

/** The request's JSON body as an object (an empty body is `{}`), with only `allowed` keys. */
export async function jsonObject(http: HttpContext, limit: number, allowed: readonly string[], example: string): Promise<Record<string, unknown>> {
  const bytes = await http.readBody({ limit })
  if (bytes.byteLength === 0) return {}
  const type = header(http, 'content-type')
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw badRequest('Content-Type', `the body is sent as '${type || 'no Content-Type'}'; send Content-Type: application/json with ${example}`)
  }
  return checkedKeys(parseJson(bytes), allowed, example)
}

/** The request's JSON body, any JSON value; undefined when it is empty. */
export async function jsonValue(http: HttpContext, limit: number): Promise<unknown> {
  const bytes = await http.readBody({ limit })
  if (bytes.byteLength === 0) return undefined
  const type = header(http, 'content-type')
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw badRequest('Content-Type', `the body is sent as '${type || 'no Content-Type'}'; send Content-Type: application/json`)
  }
  return parseJson(bytes)
}

/** The body of POST …/versions: JSON `{files, entry?, message?, dryRun?, promote?}` or multipart/form-data. */
export async function deployRequest(http: HttpContext, query: Record<string, string>): Promise<DeployRequest> {
  const example = `{"files": {"index.ts": "…"}, "entry": "index.ts", "message": "…"}, or multipart/form-data with one part per file (its path as the filename)`
  const type = header(http, 'content-type')
  const boundary = multipartBoundary(type)
  let body: Record<string, unknown>
  if (boundary !== undefined) {
    const form = parseMultipart(await http.readBody({ limit: DEPLOY_BODY_LIMIT }), boundary)
    body = checkedKeys({ ...form.fields, files: form.files }, ['files', 'entry', 'message', 'dryRun', 'promote'], example)
    for (const name of ['dryRun', 'promote'] as const) if (body[name] !== undefined) body[name] = flag({ [name]: body[name] as string }, name)
  } else {
    body = await jsonObject(http, DEPLOY_BODY_LIMIT, ['files', 'entry', 'message', 'dryRun', 'promote'], example)
  }
  const files = body.files
  if (typeof files !== 'object' || files === null || Array.isArray(files)) {
    throw badRequest('files', files === undefined ? `the body has no files; send ${example}`
      : `files is ${Array.isArray(files) ? 'an array' : typeof files}: it maps each path to the file's text, e.g. {"index.ts": "export default …"}`)
  }
  for (const [path, text] of Object.entries(files)) {
    if (typeof text !== 'string') throw badRequest(`files.${path}`, `files['${path}'] is ${text === null ? 'null' : typeof text}: each file's content is its UTF-8 text as a string`)
  }
  const request: DeployRequest = { files: Object.fromEntries(Object.entries(files as Record<string, string>)) }
  const entry = optionalString(body, 'entry', 1024)
  const message = optionalString(body, 'message', MAX_MESSAGE)
  if (entry !== undefined) request.entry = entry
  if (message !== undefined) request.message = message
  const dryRun = flag(query, 'dryRun') ?? optionalBoolean(body, 'dryRun')
  const promote = flag(query, 'promote') ?? optionalBoolean(body, 'promote')
  if (dryRun !== undefined) request.dryRun = dryRun
  if (promote !== undefined) request.promote = promote
  return request
}

function optionalString(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw badRequest(name, `${name} is ${value === null ? 'null' : typeof value}; give a string`)
  if (value.length > max) throw badRequest(name, `${name} is ${value.length} characters long; at most ${max}`)
  return value
}

function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name]
  if (value === undefined || typeof value === 'boolean') return value
  throw badRequest(name, `${name} is ${value === null ? 'null' : typeof value}; give true or false`)
}

function checkedKeys(value: unknown, allowed: readonly string[], example: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('body', `the body is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}; send an object: ${example}`)
  }
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue
    const hint = didYouMean(key, allowed)
    throw badRequest(key, `the body has an unknown field '${key}'${hint ? ` (${hint})` : ` (it takes ${allowed.join(', ')})`}`)
  }
  return value as Record<string, unknown>
}

function parseJson(bytes: Uint8Array): unknown {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw badRequest('body', 'the body is not UTF-8 text; send JSON in UTF-8')
  }
  // Whatever walks the value later (the service, the audit, the response echoing it) recurses over it.
  if (text.length > MAX_JSON_DEPTH && jsonNestsDeeper(text, MAX_JSON_DEPTH)) {
    throw badRequest('body', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw badRequest('body', `the body is not valid JSON: ${(error as Error).message}`)
  }
}

function header(http: HttpContext, name: string): string {
  const value = http.request.headers[name]
  return (Array.isArray(value) ? value[0] : value) ?? ''
}
