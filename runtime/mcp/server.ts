// The MCP server over a transport: the sdk's low-level Server with the tools of tools.ts. Low-level rather than
// McpServer because McpServer wants zod schemas for tool inputs; ours are plain JSON Schema (what tools/list sends
// anyway), checked with the engine's own ajv in tools.ts. Importing this file loads the MCP sdk (and zod, which the
// sdk's protocol types need): only /admin/mcp's first request and `islet mcp` import it.
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv'
import { ENGINE_VERSION } from '../version.ts'
import type { AdminOps } from './ops.ts'
import { TOOLS, callTool } from './tools.ts'

const INSTRUCTIONS = 'Islet runs TypeScript components in sandboxed deploy slots. Call describe_platform first (types, globals, slots, ' +
  'a worked example), then validate your files until ok, then deploy with promote: true, then invoke to check the output. Every ' +
  'problem comes back as diagnostics with file, line, column, a hint and sometimes a replacement: fix them all in one round.'

// What the Server checks elicitation answers with (we ask for none): one for the process, because /admin/mcp makes a
// Server per request and each would otherwise build its own Ajv.
let validator: AjvJsonSchemaValidator | undefined

export function createMcpServer(ops: AdminOps): Server {
  validator ??= new AjvJsonSchemaValidator()
  const server = new Server({ name: 'islet', version: ENGINE_VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: validator })
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema, ...(t.annotations ? { annotations: t.annotations } : {}) })),
  }))
  server.setRequestHandler(CallToolRequestSchema, (request) => callTool(request.params.name, request.params.arguments ?? {}, ops))
  return server
}
