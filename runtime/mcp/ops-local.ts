// AdminOps in-process: the engine's slots service, acting as the principal of the /admin/mcp request. The service
// checks scopes itself, so an MCP call is allowed exactly when the same call on the admin HTTP API is. The service is
// looked up per call, so a failure to get it (an engine without slots) is the refusal of that one tool call.
import type { Principal, SlotsService } from '@islet/sdk'
import type { AdminOps } from './ops.ts'

export function localOps(service: () => SlotsService, principal: Principal): AdminOps {
  return {
    target: 'in-process',
    async slots() { return service().list(principal) },
    async slot(slot) { return service().describe(slot, principal) },
    async deploy(slot, request) { return service().deploy(slot, request, principal) },
    async promote(slot, version) { return service().promote(slot, version, principal) },
    async rollback(slot, to) { return service().rollback(slot, principal, to) },
    async versions(slot) { return service().versions(slot, principal) },
    async source(slot, version) { return service().source(slot, version, principal) },
    async diff(slot, from, to) { return service().diff(slot, from, to, principal) },
    async logs(slot, options) { return service().logs(slot, principal, options) },
    async invoke(slot, input) { return service().invoke(slot, input, principal) },
  }
}
