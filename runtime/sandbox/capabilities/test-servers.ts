// Test helpers for the fetch capability: real HTTP servers on 127.0.0.1 (never any other address) and a connect counter.
import { subscribe } from 'node:diagnostics_channel'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { isIPv6, type AddressInfo, type LookupFunction } from 'node:net'
import { IsletError } from '../../errors.ts'
import { createFetchCapability, type FetchCapability, type FetchCapabilityOptions, type FetchGrant } from './fetch/fetch.ts'

export interface SeenRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

export interface TestServer {
  port: number
  origin: string
  seen: SeenRequest[]
  /** TCP connections accepted: a refusal must leave this at 0. */
  connections: number
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

const cleanups: Array<() => Promise<unknown>> = []

/** Every connection attempt undici starts, whatever the address: proves a refusal happened before the network. */
export const connectAttempts = { count: 0 }
subscribe('undici:client:beforeConnect', () => { connectAttempts.count++ })

/** Closes every server and capability the test created; register with `afterEach(cleanup)`. */
export async function cleanup(): Promise<void> {
  await Promise.allSettled(cleanups.splice(0).map((close) => close()))
}

export async function serve(handler: Handler = (_req, res) => res.end('ok')): Promise<TestServer> {
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    state.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
    handler(req, res, body)
  })
  server.on('connection', () => { state.connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const state: TestServer = { port, origin: `http://127.0.0.1:${port}`, seen: [], connections: 0 }
  cleanups.push(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return state
}

export function capability(grant: FetchGrant, options?: FetchCapabilityOptions): FetchCapability {
  const created = createFetchCapability(grant, options)
  cleanups.push(() => created.close())
  return created
}

/** A capability allowed to reach the given test servers, which are loopback and so need the private grant. */
export function privateCapability(servers: TestServer[], grant: Partial<FetchGrant> = {}): FetchCapability {
  const origins = servers.map((server) => server.origin)
  return capability({ origins, privateOrigins: origins, ...grant })
}

/** A stand-in for dns.lookup that answers with fixed addresses and counts its calls. */
export function answering(...addresses: string[]): LookupFunction & { calls: string[] } {
  const calls: string[] = []
  const lookup: LookupFunction = (hostname, options, callback) => {
    calls.push(hostname)
    const all = addresses.map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }))
    if (options.all) callback(null, all)
    else callback(null, all[0]!.address, all[0]!.family)
  }
  return Object.assign(lookup, { calls })
}

/** The IsletError a promise rejects with (fails the test on anything else). */
export async function refusal(promise: Promise<unknown>): Promise<IsletError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof IsletError) return error
    throw error
  }
  throw new Error('expected the fetch to be refused, but it succeeded')
}
