// What `islet validate` says about an http.request step beyond its schema: origins that are real, private ones that are
// also allowed, a URL written out whose origin is outside the allow list, and retries asked of a method that is not
// idempotent. Each problem at its place in the YAML.
import type { ConfigProblem } from '@islet/sdk'
import type { HttpRequestConfig } from './request-step-config.ts'
import { IDEMPOTENT } from './request-step-retry.ts'

export function checkHttpRequest(config: HttpRequestConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const allowed = new Set<string>()
  config.allow.forEach((entry, i) => {
    const origin = originOf(entry)
    if (origin === undefined) {
      problems.push({ path: ['allow', i], message: `allow origin '${entry}' is not a valid URL`, hint: 'write scheme://host[:port], e.g. https://api.example.com' })
    } else allowed.add(origin)
  })
  ;(config.privateOrigins ?? []).forEach((entry, i) => {
    const origin = originOf(entry)
    if (origin === undefined || allowed.has(origin)) return
    problems.push({ path: ['privateOrigins', i], message: `private origin '${entry}' is not listed in allow`,
      hint: `add '${entry}' to allow as well: privateOrigins only lets origins already allowed reach non-public addresses` })
  })
  const written = writtenOrigin(config.url)
  if (written !== undefined && !allowed.has(written)) {
    problems.push({ path: ['url'], message: `the url's origin ${written} is not in allow (${config.allow.join(', ')})`,
      hint: `add ${written} to the step's allow list, or correct the url` })
  }
  const method = config.method ?? 'GET'
  if ((config.retries ?? 0) > 0 && !IDEMPOTENT.has(method)) {
    problems.push({ path: ['retries'], message: `retries are only made for idempotent methods (${[...IDEMPOTENT].join(', ')}), not ${method}`,
      hint: `remove retries: a ${method} sent twice may act twice (wrap the step in a retry block if the endpoint dedupes, e.g. by an idempotency key)` })
  }
  return problems
}

function originOf(entry: string): string | undefined {
  const url = URL.parse(entry)
  return url === null || url.origin === 'null' ? undefined : url.origin
}

/**
 * The origin of a URL as far as it is written out: the whole URL when it holds no `${{ … }}`, else the part before
 * the first expression when that already ends its host (`https://api.example.com/orders/${{ input.id }}`).
 */
function writtenOrigin(url: string): string | undefined {
  const at = url.indexOf('${{')
  const literal = at === -1 ? url : url.slice(0, at)
  const head = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(?=[/?#])/i.exec(literal)?.[0] ?? (at === -1 ? literal : undefined)
  return head === undefined ? undefined : originOf(head)
}
