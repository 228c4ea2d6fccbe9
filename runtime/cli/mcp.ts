// `islet mcp`: an MCP server on stdio for agents (Claude Code, Cursor, …) whose tools drive a running engine's admin
// API (--url, --token or $ISLET_TOKEN). stdout carries the protocol and nothing else; what a person should read goes
// to stderr. It runs until the client closes stdin (or a signal).
import type { ParsedOptions } from './options.ts'

export default async function mcp({ values }: ParsedOptions): Promise<number> {
  const url = values.url as string
  const { httpOps, adminBase, adminToken } = await import('../mcp/ops-http.ts')
  const base = adminBase(url)
  const token = adminToken((values.token as string | undefined) || process.env.ISLET_TOKEN || undefined)
  const { createMcpServer } = await import('../mcp/server.ts')
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js')
  const ops = httpOps({ url, token })
  if (token && base.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
    console.error(`islet mcp: warning: the token goes to ${base.host} over plain http; anyone on the path can read it (use https)`)
  }
  const server = createMcpServer(ops)
  const closed = new Promise<void>((resolve) => { server.onclose = resolve })
  await server.connect(new StdioServerTransport())
  console.error(`islet mcp: serving the Islet tools on stdio for the admin API at ${base.href}${token ? ' (with a token)' : ' (no token: loopback-only engines answer)'}`)
  const stop = () => { void server.close() }
  process.stdin.once('end', stop)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await closed
  return 0
}
