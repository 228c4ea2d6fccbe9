// The outbound service as a plugin calls it: the fetch capability's guard with a per-call allowlist, refusals worded
// for a plugin's caller, and connections of a private call never lent to a call without the private grant.
import { afterEach, describe, expect, it } from 'vitest'
import { isIsletError, type IsletError } from '../errors.ts'
import { cleanup, serve } from '../sandbox/capabilities/test-servers.ts'
import { createOutbound, type Outbound } from './outbound.ts'

const made: Outbound[] = []
afterEach(async () => {
  await Promise.all(made.splice(0).map((outbound) => outbound.close()))
  await cleanup()
})

function outbound(): Outbound {
  const created = createOutbound()
  made.push(created)
  return created
}

async function refusal(promise: Promise<unknown>): Promise<IsletError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  if (!isIsletError(error)) throw new Error(`expected an IsletError, got ${String(error)}`)
  return error
}

describe('outbound service', () => {
  it('reaches an allowed private origin, and refuses an origin outside the call\'s allow list, naming the list', async () => {
    const [server, trap] = await Promise.all([serve(), serve()])
    const service = outbound()
    const ok = await service.fetch(`${server.origin}/a`, { allow: [server.origin], privateOrigins: [server.origin] })
    expect(ok).toMatchObject({ status: 200, body: 'ok' })
    const error = await refusal(service.fetch(`${trap.origin}/a`, { allow: [server.origin], privateOrigins: [server.origin] }))
    expect(error.code).toBe('ERR_OUTBOUND_DENIED')
    expect(error.details).toMatchObject({ reason: 'origin-not-allowed', origin: trap.origin, allow: [server.origin] })
    expect(error.message).toBe(`request to ${trap.origin} denied: the origin is not in the allow list (${server.origin})`)
    expect(trap.connections).toBe(0)
  })

  it('refuses a loopback name without privateOrigins, telling a plugin (not a component) how to allow it', async () => {
    const trap = await serve()
    const origin = `http://localhost:${trap.port}`
    const error = await refusal(outbound().fetch(`${origin}/a`, { allow: [origin] }))
    expect(error.code).toBe('ERR_OUTBOUND_DENIED')
    expect(error.details).toMatchObject({ reason: 'blocked-address', range: 'loopback' })
    expect(error.message).toContain(`list ${origin} under privateOrigins, besides allow`)
    expect(error.message).not.toContain('component')
    expect(trap.connections).toBe(0)
  })

  it('never lends a connection opened for a private call to a call without the private grant', async () => {
    const server = await serve()
    const origin = `http://localhost:${server.port}`
    const service = outbound()
    expect(await service.fetch(`${origin}/a`, { allow: [origin], privateOrigins: [origin] })).toMatchObject({ status: 200 })
    // The kept-alive connection to localhost is there; a call that may not reach loopback must not ride on it.
    const error = await refusal(service.fetch(`${origin}/b`, { allow: [origin] }))
    expect(error.details).toMatchObject({ reason: 'blocked-address' })
    expect(server.seen.map((request) => request.url)).toEqual(['/a'])
  })

  it('refuses malformed options, and every call once closed', async () => {
    const server = await serve()
    const service = outbound()
    expect((await refusal(service.fetch(`${server.origin}/`, { allow: ['not an origin'] }))).code).toBe('ERR_OUTBOUND_INVALID')
    expect((await refusal(service.fetch(`${server.origin}/`, { allow: [server.origin], timeoutMs: 0 }))).code).toBe('ERR_OUTBOUND_INVALID')
    await service.close()
    const closed = await refusal(service.fetch(`${server.origin}/`, { allow: [server.origin], privateOrigins: [server.origin] }))
    expect(closed).toMatchObject({ code: 'ERR_OUTBOUND_FAILED', details: { reason: 'closed' } })
  })
})
