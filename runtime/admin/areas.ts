// Plugin admin areas on the islet.admin module: `<prefix>/<area>/…` goes to the handler a plugin mounted through the
// `admin` service, with the principal the access check verified. The handler states the scope it needs
// (`request.require('read' | 'change')`); refusals and its coded errors answer in the admin API's one error shape.
import { ADMIN_SCOPE, CodedError, type AdminRequest, type AdminService, type HttpContext, type Principal } from '@islet/sdk'
import { codeOf, IsletError } from '../errors.ts'
import { READ_SCOPES, requireScope } from './access.ts'
import { respondRefusal } from './respond-refusal.ts'
import { SMALL_BODY_LIMIT, badRequest, jsonValue } from './request-input.ts'

/** Answers `http` when its path is under a mounted area and returns true; false when no plugin mounted that area. */
export async function answerArea(http: HttpContext, principal: Principal, prefix: string, admin: AdminService): Promise<boolean> {
  const rest = http.request.path.slice(prefix.length + 1).split('/')
  const handler = admin.handler(rest[0]!)
  if (!handler) return false
  try {
    if (rest.length > 1 && rest.at(-1) === '') rest.pop() // a trailing slash
    const segments = rest.slice(1).map((s) => {
      try { return decodeURIComponent(s) } catch { throw badRequest('path', `the path segment '${s.slice(0, 80)}' has malformed percent-encoding`) }
    })
    const what = `${http.request.method} ${http.request.path}`
    const request: AdminRequest = {
      method: http.request.method, segments, query: http.request.query, principal, http,
      require(access) {
        const refusal = requireScope(principal, access === 'read' ? READ_SCOPES : [ADMIN_SCOPE], what)
        if (refusal) throw new IsletError('ERR_ADMIN_FORBIDDEN', refusal.message, { details: { ...refusal.details, status: 403 } })
      },
      json: () => jsonValue(http, SMALL_BODY_LIMIT),
    }
    const answer = await handler(request)
    http.respond({ status: answer.status, body: answer.body, ...(answer.headers ? { headers: answer.headers } : {}) })
  } catch (error) {
    const code = codeOf(error, 'ERR_INTERNAL')
    const said = [(error as CodedError).details?.status, (error as { status?: unknown }).status]
      .find((s): s is number => typeof s === 'number' && Number.isInteger(s) && s >= 400 && s < 600)
    const status = said ?? (code === 'ERR_ADMIN_BAD_REQUEST' ? 400 : 500)
    if (status >= 500) {
      http.logger.error({ err: error }, 'admin area route failed')
      respondRefusal(http, { status, code: 'ERR_INTERNAL', message: `internal error; the server log has details under request id ${http.request.id}` })
      return true
    }
    const { status: _status, ...details } = error instanceof CodedError ? error.details : {}
    respondRefusal(http, { status, code, message: (error as Error).message, details })
  }
  return true
}
