// The one JSON shape every admin route refuses with: `{error: {code, message, requestId, details?}}`, the shape the
// http plugin answers its own errors with, so a client (islet deploy, an agent) parses one shape whichever layer said no.
import type { HttpContext } from '@islet/sdk'
import type { AdminRefusal } from './access.ts'

export function respondRefusal(http: HttpContext, refusal: AdminRefusal): void {
  const { status, code, message, details, headers } = refusal
  http.respond({
    status, ...(headers ? { headers } : {}),
    body: { error: { code, message, requestId: http.request.id, ...(details && Object.keys(details).length > 0 ? { details } : {}) } },
  })
}
