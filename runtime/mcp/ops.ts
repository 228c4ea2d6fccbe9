// What the MCP tools do, as one interface with two implementations: in-process (ops-local.ts: the slots service with
// the request's principal, for /admin/mcp) and over HTTP (ops-http.ts: the admin API with a bearer token, for
// `islet mcp`). The tools (tools.ts) see only this, so the two transports cannot answer differently.
// A refusal (forbidden, unknown slot or version, bad request) rejects with a coded error: `code`, `message`,
// `details`. A deploy that fails validation is not a refusal: it resolves with its DeployResult (ok: false).
import type { DeployFiles, DeployRequest, DeployResult, SlotInfo, SlotInvokeResult, SlotLogEntry, SlotVersion } from '@islet/sdk'

export interface AdminOps {
  /** Where the operations go, for messages: `in-process` or the admin API's URL. */
  readonly target: string
  slots(): Promise<SlotInfo[]>
  slot(slot: string): Promise<SlotInfo>
  deploy(slot: string, request: DeployRequest): Promise<DeployResult>
  promote(slot: string, version: number): Promise<DeployResult>
  rollback(slot: string, to?: number): Promise<DeployResult>
  versions(slot: string): Promise<SlotVersion[]>
  source(slot: string, version: number): Promise<DeployFiles>
  diff(slot: string, from: number, to: number): Promise<string>
  logs(slot: string, options: { after?: number; limit?: number }): Promise<SlotLogEntry[]>
  invoke(slot: string, input: unknown): Promise<SlotInvokeResult>
}
