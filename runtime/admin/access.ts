// Who is asking the admin API: the principal a request acts as, or why it is refused. One place, so the status and
// event routes, the slot routes and /admin/mcp cannot disagree about who may do what.
import { ADMIN_SCOPE, type HttpContext, type Principal } from '@islet/sdk'
import { isLoopback } from './loopback.ts'

export interface AccessConfig {
  /** Answer requests that carry proxy headers (dangerous: see PROXY_HEADERS). */
  trustProxyHeaders: boolean
}

/** What a refused request is answered with. */
export interface AdminRefusal {
  status: number
  code: string
  message: string
  details?: Record<string, unknown>
  headers?: Record<string, string>
}

/**
 * Headers a reverse proxy adds when it forwards a request. The loopback check sees the socket's peer, which behind a
 * proxy on this host is the proxy itself: a request carrying one of these came from whoever the proxy serves.
 */
export const PROXY_HEADERS = [
  'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via',
  // What other proxies and CDNs add instead (Envoy, Cloudflare, Akamai, Fastly, and the older conventions).
  'x-envoy-external-address', 'x-original-forwarded-for', 'cf-connecting-ip', 'true-client-ip', 'fastly-client-ip',
  'x-client-ip', 'x-cluster-client-ip',
] as const

/** The principal of the loopback convenience: a client on this machine, no token. */
export const LOOPBACK_PRINCIPAL: Principal = Object.freeze({ subject: 'loopback', via: 'loopback', scopes: Object.freeze([ADMIN_SCOPE]) as string[] })

/** The principal `http` acts as on the admin API, or the refusal to answer it with. */
export async function adminPrincipal(http: HttpContext, config: AccessConfig): Promise<Principal | AdminRefusal> {
  const { headers, remoteAddress } = http.request
  if (!isLoopback(remoteAddress)) {
    return { status: 403, code: 'ERR_ADMIN_FORBIDDEN', message: 'the admin API answers loopback clients only' }
  }
  const forwarded = config.trustProxyHeaders ? undefined : PROXY_HEADERS.find((h) => headers[h] !== undefined)
  if (forwarded) {
    return {
      status: 403, code: 'ERR_ADMIN_PROXIED', details: { header: forwarded },
      message: `the admin API refuses requests forwarded by a proxy (this one carries ${forwarded}): behind a proxy the loopback check cannot tell who the client is; ` +
        'reach it directly on loopback, or set trustProxyHeaders: true on the islet.admin module if the proxy admits only trusted clients',
    }
  }
  return LOOPBACK_PRINCIPAL
}

export function isRefusal(value: Principal | AdminRefusal): value is AdminRefusal {
  return 'code' in value
}
