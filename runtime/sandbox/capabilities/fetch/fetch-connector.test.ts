// The pinned connector on its own: the checks that still hold when a request skips the pre-connection policy.
import { afterEach, describe, expect, it } from 'vitest'
import { BlockedAddressError } from './address-policy.ts'
import { createPinnedAgent } from './fetch-connector.ts'
import { validateFetchGrant } from './fetch-grant.ts'
import { answering, cleanup, serve } from '../test-servers.ts'

afterEach(cleanup)

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => { throw new Error('expected a rejection') }, (error: unknown) => error)
}

describe('createPinnedAgent', () => {
  it('refuses a connection whose peer address is blocked, even for an IP literal (no lookup happens)', async () => {
    const server = await serve()
    const agent = createPinnedAgent(validateFetchGrant({ origins: [server.origin] }))
    const error = await rejectionOf(agent.request({ origin: server.origin, path: '/', method: 'GET' }))
    await agent.close()
    expect(error).toBeInstanceOf(BlockedAddressError)
    expect((error as BlockedAddressError).range).toBe('loopback')
    expect(server.seen).toHaveLength(0) // the socket was destroyed before a byte of HTTP was sent
  })

  it('connects to exactly the address the checked lookup answered', async () => {
    const server = await serve()
    const origin = `http://pinned.test:${server.port}`
    const lookup = answering('127.0.0.1')
    const agent = createPinnedAgent(validateFetchGrant({ origins: [origin], privateOrigins: [origin] }), lookup)
    const response = await agent.request({ origin, path: '/', method: 'GET' })
    await response.body.dump()
    await agent.close()
    expect(response.statusCode).toBe(200)
    expect(lookup.calls).toEqual(['pinned.test'])
  })
})
