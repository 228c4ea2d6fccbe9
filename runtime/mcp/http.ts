// One /admin/mcp request (streamable HTTP, stateless): a fresh Server and transport per request, answered as JSON
// (enableJsonResponse). Stateless because every request carries its own credentials and is authorised on its own,
// like every other admin route: no session outlives a revoked key, and a second engine process (--processes n) can
// answer any request. JSON rather than an SSE stream because the tools send no progress or server requests, so
// there is nothing to stream. Imports the MCP sdk: loaded only when /admin/mcp is first hit (runtime/admin/mcp-route.ts).
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import type { AdminOps } from './ops.ts'
import { createMcpServer } from './server.ts'

export async function handleMcpRequest(request: Request, ops: AdminOps, maxBodyBytes: number): Promise<Response> {
  const server = createMcpServer(ops)
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, maxRequestBodySize: maxBodyBytes })
  await server.connect(transport)
  try {
    const response = await transport.handleRequest(request)
    // Read before closing: closing the transport drops whatever it still maps.
    const body = response.body ? new Uint8Array(await response.arrayBuffer()) : undefined
    return new Response(body, { status: response.status, headers: response.headers })
  } finally {
    await server.close()
  }
}
