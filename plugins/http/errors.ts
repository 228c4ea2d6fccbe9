// The http plugin's error catalogue, and the one place any error becomes the JSON error response.
import { CodedError, isStepError, type Logger } from '@islet/sdk'

/** Each code and the status it answers with; the codes after ERR_HTTP_ROUTE_CONFLICT are raised while a module is
 * created or started (they end startup or a reload, never a request). */
export const HTTP_ERROR_CODES = {
  ERR_HTTP_NOT_FOUND: 404,
  ERR_HTTP_METHOD_NOT_ALLOWED: 405,
  ERR_HTTP_BAD_JSON: 400,
  ERR_HTTP_BAD_BODY: 400,
  ERR_HTTP_BODY_TOO_LARGE: 413,
  ERR_HTTP_BODY_TOO_DEEP: 400, // a JSON body nests arrays and objects deeper than the parser accepts
  /** A response body that JSON cannot represent (too deep, a cycle, a BigInt): a bug of the app, logged. */
  ERR_HTTP_RESPONSE_UNSERIALISABLE: 500,
  /** A middleware put a value JSON cannot hold (a Map, a Date, a BigInt, a cycle, a function) into locals: a bug of the app, logged. */
  ERR_HTTP_LOCALS_INVALID: 500,
  ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_HTTP_UNAUTHENTICATED: 401, // a route with `requires:` and no principal attached (no or unrecognised credentials)
  ERR_HTTP_FORBIDDEN: 403, // the principal lacks a scope the route requires (details.missing names them)
  ERR_HTTP_RATE_LIMITED: 429, // http.rate-limit: the caller's bucket is empty; Retry-After says when to try again
  ERR_HTTP_REQUEST_TIMEOUT: 503,
  ERR_HTTP_SHUTTING_DOWN: 503,
  /** A server bound its socket but its config generation is not applied yet (the first start, or a new port on a reload). */
  ERR_HTTP_NOT_READY: 503,
  // nginx's "client closed request": nobody reads this response; below 500 so it is not logged as a server error.
  ERR_HTTP_CLIENT_CLOSED: 499,
  ERR_HTTP_ROUTE_CONFLICT: 500, // two routes of a router match the same method and path
  ERR_HTTP_CONFIG_INVALID: 500, // a config the schema accepts but that cannot work (e.g. CORS origins ['*'] with credentials)
  ERR_HTTP_PORT_IN_USE: 500, // the server's host:port is taken by another socket
  ERR_HTTP_LISTEN_FAILED: 500, // the server could not listen for another reason (no such address, no permission, …)
  ERR_HTTP_NOT_LISTENING: 500, // a server's address or URL was asked for while it does not listen
  ERR_INTERNAL: 500,
} as const

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES

/**
 * Codes of the StepErrors the http.request step fails with (request-step-errors.ts), with the status a route answers;
 * details carry the origin, and for refusals and failures the outbound service's details.reason.
 */
export const HTTP_REQUEST_ERROR_CODES = {
  ERR_HTTP_REQUEST_ORIGIN_DENIED: "502: the URL's origin, or a redirect's, is not in the step's allow list (details.allow)",
  ERR_HTTP_REQUEST_ADDRESS_DENIED: '502: the host is or resolves to a loopback, private or other non-public address, and its origin is not in privateOrigins',
  ERR_HTTP_REQUEST_STATUS: '502: the response status is not one the step expects (details.status, details.excerpt: the start of the body)',
  ERR_HTTP_REQUEST_TIMEOUT: '504: no complete response within timeoutMs (on the last attempt)',
  ERR_HTTP_REQUEST_TOO_LARGE: '502: the response body is larger than maxBytes (or the request body than the engine sends)',
  ERR_HTTP_REQUEST_FAILED: '502: the request did not complete: connection refused or reset, too many or broken redirects',
  ERR_HTTP_REQUEST_BAD_JSON: '502: the response was to be parsed as JSON (its content-type, or parse: json) and is not JSON',
  ERR_HTTP_REQUEST_INVALID: "500: the request the step built is malformed: a URL that does not parse or is not http(s), credentials in it, a header that is not text, a body JSON cannot hold",
} as const

export type HttpRequestErrorCode = keyof typeof HTTP_REQUEST_ERROR_CODES

/** An error the http layer itself raises; its message is safe to show the caller. */
export class HttpError extends CodedError<HttpErrorCode> {
  readonly status: number
  constructor(code: HttpErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(code, message, { details, cause })
    this.status = HTTP_ERROR_CODES[code]
  }
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: unknown }
}

/**
 * Maps anything thrown on the request path to a status and the standard error body. Errors the caller may see
 * (StepError, HttpError) keep their message; anything else is logged in full and answered with a generic 500,
 * so no stack, path or internal message leaks.
 */
export function toErrorResponse(error: unknown, requestId: string, logger: Logger): { status: number; body: ErrorBody } {
  if (isStepError(error) || error instanceof HttpError) {
    if (error.status >= 500) logger.error({ err: error }, error.message)
    const body: ErrorBody = { error: { code: error.code, message: error.message, requestId } }
    const details = error instanceof HttpError ? (Object.keys(error.details).length > 0 ? error.details : undefined) : error.details
    if (details !== undefined) body.error.details = details
    return { status: error.status, body }
  }
  logger.error({ err: error }, 'request failed')
  return {
    status: 500,
    body: { error: { code: 'ERR_INTERNAL', message: `internal error; the server log has details under request id ${requestId}`, requestId } },
  }
}
