// `islet mcp`: an MCP server on stdio for agents (Claude Code, Cursor, …) whose tools drive a running engine's admin
// API (--url, --token or $ISLET_TOKEN). stdout carries the protocol and nothing else; what a person should read goes
// to stderr. It runs until the client closes stdin (or a signal).
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'

export default async function mcp({ values }: ParsedOptions): Promise<number> {
  const url = values.url as string
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new IsletError('ERR_CLI_USAGE', `--url ${JSON.stringify(url)} is not a URL: give the engine's address, e.g. --url http://127.0.0.1:8080`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new IsletError('ERR_CLI_USAGE', `--url must be an http:// or https:// URL (the engine's http.server), not ${parsed.protocol}`)
  }
  const token = (values.token as string | undefined) || process.env.ISLET_TOKEN || undefined
  const { httpOps, adminBase } = await import('../mcp/ops-http.ts')
  const { createMcpServer } = await import('../mcp/server.ts')
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js')
  const ops = httpOps({ url, token })
  const base = adminBase(url)
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
