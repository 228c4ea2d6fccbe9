// {prefix}/mcp: the MCP server for agents over streamable HTTP, acting as the principal the admin module resolved for
// the request (same tokens, same scopes as the slot routes: the slots service checks them). Stateless (see
// runtime/mcp/http.ts): POST carries every JSON-RPC message; GET (a server-to-client stream) and DELETE (ending a
// session) answer 405, which the spec provides for servers that offer neither. The MCP sdk is imported on the first
// request, so an app that never serves /admin/mcp never loads it (test/start-imports.test.ts).
import { isLoopback } from './loopback.ts'
import type { HttpContext, Principal, SlotsService } from '@islet/sdk'

/** JSON-RPC bodies: a deploy's files (≤ 512 KiB, checked by the service) JSON-escaped, with room to spare. */
const MAX_BODY_BYTES = 2 * 1024 * 1024

export interface McpRoute {
  /** `{prefix}/mcp`. */
  readonly path: string
  handle(http: HttpContext, principal: Principal): Promise<void>
}

export function mcpRoute(prefix: string, slots: () => SlotsService): McpRoute {
  const path = `${prefix}/mcp`
  return {
    path,
    async handle(http, principal) {
      const { method, headers } = http.request
      if (method !== 'POST') {
        return http.respond({
          status: 405, headers: { Allow: 'POST', 'Content-Type': 'application/json' },
          body: { jsonrpc: '2.0', error: { code: -32000, message: `${method} ${path}: this MCP server is stateless; send every message with POST` }, id: null },
        })
      }
      // DNS rebinding: a web page whose host name resolves to 127.0.0.1 reaches the loopback convenience from the
      // visitor's browser with its own Host and Origin. Tokens are not at risk (a page cannot read them); the token-free
      // loopback principal is, so it answers only requests addressed to a loopback name from no foreign page.
      const origin = one(headers.origin)
      const host = one(headers.host)
      if ((origin !== undefined && !isLoopbackOrigin(origin)) || (principal.via === 'loopback' && !isLoopbackHostname(hostnameOf(host)))) {
        return http.respond({
          status: 403, headers: { 'Content-Type': 'application/json' },
          body: { error: { code: 'ERR_MCP_ORIGIN', requestId: http.request.id, details: { origin: origin ?? null, host: host ?? null },
            message: `${path} refuses requests from a web page of another origin (Origin ${origin ?? 'none'}, Host ${host ?? 'none'}): ` +
              'MCP clients send no Origin; without a token, address the server by a loopback name (127.0.0.1, localhost, [::1])' } },
        })
      }
      const body = await http.readBody({ limit: MAX_BODY_BYTES })
      const request = new Request(`http://${host ?? '127.0.0.1'}${path}`, { method, headers: webHeaders(headers), body })
      const { localOps } = await import('../mcp/ops-local.ts')
      const { handleMcpRequest } = await import('../mcp/http.ts')
      const response = await handleMcpRequest(request, localOps(slots, principal), MAX_BODY_BYTES)
      const out: Record<string, string> = {}
      response.headers.forEach((value, name) => { out[name] = value })
      http.respond({ status: response.status, headers: out, ...(response.body ? { body: new Uint8Array(await response.arrayBuffer()) } : {}) })
    },
  }
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function hostnameOf(host: string | undefined): string {
  if (!host) return ''
  try { return new URL(`http://${host}`).hostname } catch { return '' }
}

/** A host name that only ever means this machine: `localhost` (and `*.localhost`), 127.x, ::1. */
function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name)
}

function isLoopbackOrigin(origin: string): boolean {
  try { return isLoopbackHostname(new URL(origin).hostname) } catch { return false }
}

function webHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Headers {
  const out = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'host' || name === 'content-length' || name === 'connection' || name === 'transfer-encoding') continue
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, v)
  }
  return out
}
