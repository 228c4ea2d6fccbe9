// The engine's side of ctx.fetch: the grant's request quota per invocation, examples' refusal, then fetch.ts.
import type { ArgumentCap, CapabilityDeps, CapabilityHost } from '../capability.ts'
import { deny } from '../refusal.ts'
import { createFetchCapability, type FetchRequestDto } from './fetch.ts'
import { validateFetchGrant } from './fetch-grant.ts'
import { FETCH_REQUEST_CAP, type FetchGrantDecl } from './index.ts'

/** Fetch counters per invocation; bounded so a long-running engine does not grow it forever. */
const MAX_TRACKED_INVOCATIONS = 10_000

export function create(grant: FetchGrantDecl | undefined, name: string, deps: CapabilityDeps): CapabilityHost {
  const fetcher = grant ? createFetchCapability(grant, deps.lookup ? { lookup: deps.lookup } : {}) : undefined
  const fetches = new Map<number, number>()
  return {
    // The only op that waits on the outside world: it takes the call's abort signal.
    ops: {
      fetch([request], invocation, signal) {
        if (!fetcher || !grant) throw deny('fetch', 'not-granted', `component '${name}' is not granted fetch; grant it in the app's components section`)
        if (deps.scratch?.fetchRefusal !== undefined) throw deny('fetch', 'example-fetch-not-declared', deps.scratch.fetchRefusal)
        const used = (fetches.get(invocation) ?? 0) + 1
        if (used > grant.maxRequests) throw deny('fetch', 'quota', `component '${name}' may make ${grant.maxRequests} fetch requests per invocation`)
        fetches.delete(invocation)
        fetches.set(invocation, used)
        if (fetches.size > MAX_TRACKED_INVOCATIONS) fetches.delete(fetches.keys().next().value!)
        return fetcher.fetch(request as FetchRequestDto, signal)
      },
    },
    async close() {
      await fetcher?.close()
    },
  }
}

/** A body held to the grant's maxRequestBytes inside the isolate and the worker (never above the transport cap). */
export function caps(grant: FetchGrantDecl): { fetch: readonly ArgumentCap[] } {
  const body = FETCH_REQUEST_CAP.fields!.body
  const max = Math.min(body.max, validateFetchGrant(grant).maxRequestBytes)
  return { fetch: [{ ...FETCH_REQUEST_CAP, fields: { ...FETCH_REQUEST_CAP.fields, body: { ...body, max } } }] }
}
