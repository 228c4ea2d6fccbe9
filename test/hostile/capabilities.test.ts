// Hostile use of capabilities: fetch towards metadata, loopback and redirect targets (every one refused before any
// connection), secrets not granted or leaked into errors and logs, emit and kv outside their grants and caps, a ctx
// kept past its invocation, a log flood.
import { createServer, type Server } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { KV_LIMITS } from '../../runtime/sandbox/capabilities/kv/kv.ts'
import { connectAttempts } from '../../runtime/sandbox/capabilities/test-servers.ts'
import { attacker, component, eventually, only, ROOMY, startHostile, type HostileHost, type LogLine } from './support.ts'

/** A real HTTP server on a loopback address, counting every connection it accepts. */
interface Target {
  port: number
  origin: string
  connections: number
  requests: string[]
  server: Server
}

async function listen(host: '127.0.0.1' | '::1', handler?: (url: string) => { status: number; location?: string }): Promise<Target> {
  const server = createServer((req, res) => {
    target.requests.push(req.url ?? '')
    const reply = handler?.(req.url ?? '') ?? { status: 200 }
    res.writeHead(reply.status, reply.location ? { location: reply.location } : {}).end('hello from loopback')
  })
  server.on('connection', () => { target.connections++ })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  const target: Target = { port, origin: host === '::1' ? `http://[::1]:${port}` : `http://127.0.0.1:${port}`, connections: 0, requests: [], server }
  return target
}

// Belt and braces: whatever the policy does, this process connects to nothing but loopback (and `.test` names,
// which only the stub lookup below resolves). A refused attempt is recorded and fails the test.
const ALLOWED_HOSTS = new Set(['127.0.0.1', '::1', 'localhost'])
const guardRefusals: string[] = []
const realConnect = net.Socket.prototype.connect
function guardConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]
  const options = (typeof first === 'object' && first !== null ? first : { port: first, host: args[1] }) as { host?: unknown; path?: unknown }
  const host = String(options.host ?? 'localhost')
  if (options.path === undefined && !ALLOWED_HOSTS.has(host) && !host.endsWith('.test')) {
    guardRefusals.push(host)
    throw new Error(`hostile test guard: refusing to connect to ${host}`)
  }
  return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args)
}

const SECRET = 'tok-"quoted\\back-9f8e7d'
/** Log calls in the flood test: far more than the gate lets through in the invocation's whole (roomy) deadline. */
const FLOOD = 100_000
let h: HostileHost
let target: Target
let target6: Target
let allowed: Target
let redirector: Target

const fetcher = (origins: string[], privateOrigins: string[] = [], maxRequests = 5) => ({
  source: attacker(`const urls: string[] = input.urls ?? [input.url]
      const out = []
      for (const url of urls) { const r = await ctx.fetch(url); out.push({ status: r.status, body: await r.text(), url: r.url }) }
      return { out }`),
  grants: { fetch: { origins, privateOrigins, maxRequests, timeoutMs: 2_000 } },
})

beforeAll(async () => {
  net.Socket.prototype.connect = guardConnect as typeof net.Socket.prototype.connect
  target = await listen('127.0.0.1')
  target6 = await listen('::1')
  allowed = await listen('127.0.0.1')
  redirector = await listen('127.0.0.1', (url) => ({
    status: 302,
    location: url === '/to-v6' ? `${target6.origin}/` : url === '/to-metadata-name' ? 'http://rebind.test/' : `${target.origin}/`,
  }))
  h = await startHostile({
    'fetch-metadata': fetcher(['http://169.254.169.254']),
    'fetch-loopback': fetcher([target.origin, target6.origin]),
    'fetch-localhost': fetcher([`http://localhost:${target.port}`, 'http://rebind.test']),
    'fetch-redirect': fetcher([redirector.origin], [redirector.origin]),
    'fetch-redirect-granted': fetcher([redirector.origin, target.origin, target6.origin], [redirector.origin]),
    'fetch-allowed': fetcher([allowed.origin], [allowed.origin], 2),
    'fetch-ungranted': attacker("return await ctx.fetch(input.url)"),
    secrets: { source: attacker(`const token = await ctx.secrets.get('API_TOKEN')
      if (input.mode === 'other') return { other: await ctx.secrets.get(input.name) }
      if (input.mode === 'log') { ctx.log.info('token is ' + token, { token, nested: { headers: { authorization: 'Bearer ' + token } } }); return { logged: true } }
      throw new Error('request failed with token ' + token)`), grants: { secrets: ['API_TOKEN'] } },
    emitter: { source: attacker(`const topic = input.repeat ? input.topic + 'x'.repeat(input.repeat) : input.topic
      await ctx.emit(topic, input.size ? { blob: 'x'.repeat(input.size) } : input.payload)
      return { emitted: input.topic }`), grants: { emit: ['orders.*', 'audit'] } },
    // Granted islet.* by a careless operator: the engine's own topics (what the admin stream trusts) stay out of reach.
    forger: { source: attacker(`await ctx.emit(input.topic, { generation: 99 })
      return { emitted: input.topic }`), grants: { emit: ['islet.*'] } },
    // Everything the cap check could look up, rewritten first: prototypes, JSON, String.prototype.
    'polluted-caps': { source: attacker(`const O = Object.prototype as any
      O.max = 1e12; O.fields = { body: { name: 'body', max: 1e12 } }; O.emit = []; O['0'] = { name: 'topic', max: 1e12 }
      ;(String.prototype as any).slice = () => 'short'
      JSON.stringify = (() => '[]') as any
      await ctx.emit('orders.' + 'x'.repeat(input.repeat), {})
      return { emitted: true }`), grants: { emit: ['orders.*'] } },
    'secret-name': { source: attacker("return { value: await ctx.secrets.get('API_TOKEN' + 'x'.repeat(input.repeat)) }"), grants: { secrets: ['API_TOKEN'] } },
    'fetch-url': { source: attacker("return await ctx.fetch(input.url + 'x'.repeat(input.repeat))"), grants: { fetch: { origins: [target.origin], privateOrigins: [target.origin], maxRequests: 5 } } },
    kv: { source: attacker(`if (input.mode === 'set') { await ctx.kv.set(input.key, input.size ? 'v'.repeat(input.size) : input.value); return { set: true } }
      return { value: await ctx.kv.get(input.key) }`), grants: { kv: true } },
    'kv-neighbour': { source: attacker("await ctx.kv.set('shared', 'neighbour secret'); return { set: true }"), grants: { kv: true } },
    'stale-ctx': { source: attacker(`if (input.mode === 'keep') { kept = ctx; return { kept: true } }
      if (input.mode === 'flood') { for (;;) { try { await kept.kv.get('x') } catch {} } }
      return { value: await kept.kv.get('x') }`, 'let kept: any'), grants: { kv: true }, limits: only('hostCalls') },
    'init-ctx': { source: component(`  init(_config: unknown, ctx: any) { fromInit = ctx },
  async execute() { return { value: await fromInit.kv.get('x') } },`, 'let fromInit: any'), grants: { kv: true } },
    'log-flood': attacker(`for (let i = 0; i < ${FLOOD}; i++) ctx.log.info('line ' + i); return { done: true }`),
    'log-huge': attacker("ctx.log.warn('m'.repeat(1e6), { f: 'x'.repeat(1e5) }); return { logged: true }"),
  }, {
    env: { API_TOKEN: SECRET, OTHER_SECRET: 'other-value-12345' },
    // Test DNS: .test names resolve to loopback only; nothing else is looked up for real.
    lookup: (_hostname, options, callback) => {
      const all = [{ address: '127.0.0.1', family: 4 }]
      if (options.all) callback(null, all)
      else callback(null, all[0]!.address, all[0]!.family)
    },
  })
})
afterAll(async () => {
  await h?.stop()
  await Promise.all([target, target6, allowed, redirector].filter(Boolean).map((t) => new Promise((resolve) => {
    t.server.closeAllConnections()
    t.server.close(resolve)
  })))
  net.Socket.prototype.connect = realConnect
})
afterEach(async () => {
  await h.expectCanary()
  expect(guardRefusals).toEqual([])
})

describe('fetch', () => {
  /**
   * Runs a fetch that must be refused, and proves nothing connected to the targets. An IP literal is refused before
   * undici even starts a connection; a name, when its DNS answer is checked (one attempt, no socket); a redirect after
   * its first, allowed hop (at most one attempt: the connection to the redirector may be reused).
   */
  async function refused(name: string, input: Record<string, unknown>, attemptsAllowed = 0): Promise<void> {
    const attempts = connectAttempts.count
    const before = [target, target6].map((t) => t.connections)
    const error = await h.failure(name, { attack: true, ...input })
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(connectAttempts.count - attempts).toBeLessThanOrEqual(attemptsAllowed)
    expect([target, target6].map((t) => t.connections)).toEqual(before)
    expect(target.requests).toEqual([])
    expect(target6.requests).toEqual([])
  }

  it('a granted origin that works (the control: refusals below are the policy, not a broken fetch)', async () => {
    expect(await h.invoke('fetch-allowed', { attack: true, url: `${allowed.origin}/ok` }))
      .toEqual({ out: [{ status: 200, body: 'hello from loopback', url: `${allowed.origin}/ok` }] })
  })

  it('the cloud metadata address 169.254.169.254, even allowlisted, is refused before connecting', async () => {
    await refused('fetch-metadata', { url: 'http://169.254.169.254/latest/meta-data/' })
  })

  it('127.0.0.1 of a real listening server, allowlisted but not granted private access, is refused before connecting', async () => {
    await refused('fetch-loopback', { url: `${target.origin}/` })
  })

  it('[::1] of a real listening server is refused before connecting', async () => {
    await refused('fetch-loopback', { url: `${target6.origin}/` })
  })

  it('127.0.0.1 spelled 2130706433, 0x7f.1, 127.1 and ::ffff:127.0.0.1 is refused before connecting', async () => {
    for (const host of ['2130706433', '0x7f.1', '127.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) {
      await refused('fetch-loopback', { url: `http://${host}:${target.port}/` })
    }
  })

  it('a name resolving to loopback (localhost, or a test name rebound to 127.0.0.1) is refused before connecting', async () => {
    await refused('fetch-localhost', { url: `http://localhost:${target.port}/` }, 1)
    await refused('fetch-localhost', { url: 'http://rebind.test/' }, 1)
  })

  it('an allowed, private-granted origin redirecting to another loopback port is refused at the redirect', async () => {
    const hops = redirector.requests.length
    await refused('fetch-redirect', { url: `${redirector.origin}/to-v4` }, 1)
    await refused('fetch-redirect', { url: `${redirector.origin}/to-v6` }, 1)
    await refused('fetch-redirect', { url: `${redirector.origin}/to-metadata-name` }, 1)
    expect(redirector.requests.length - hops).toBe(3)
  })

  it('a redirect to an allowlisted loopback origin without private access is refused at the redirect', async () => {
    await refused('fetch-redirect-granted', { url: `${redirector.origin}/to-v4` }, 1)
    await refused('fetch-redirect-granted', { url: `${redirector.origin}/to-v6` }, 1)
  })

  it('file:, data: and credentials in the URL are refused', async () => {
    for (const url of ['file:///etc/passwd', 'data:text/plain,hi', `http://user:pass@127.0.0.1:${allowed.port}/`]) {
      expect((await h.failure('fetch-allowed', { attack: true, url })).code).toBe('ERR_CAPABILITY_DENIED')
    }
  })

  it('more requests than the grant allows in one invocation are refused', async () => {
    const urls = [1, 2, 3].map((n) => `${allowed.origin}/${n}`)
    expect((await h.failure('fetch-allowed', { attack: true, urls })).code).toBe('ERR_CAPABILITY_DENIED')
  })

  it('fetch without a grant is refused', async () => {
    expect((await h.failure('fetch-ungranted', { attack: true, url: `${allowed.origin}/` })).code).toBe('ERR_CAPABILITY_DENIED')
  })
})

describe('secrets', () => {
  const leaked = (lines: LogLine[]) => JSON.stringify(lines).includes('9f8e7d') || JSON.stringify(lines).includes(JSON.stringify(SECRET).slice(1, -1))

  it('reading a secret that was not granted is refused, even when it is set in the environment', async () => {
    expect((await h.failure('secrets', { attack: true, mode: 'other', name: 'OTHER_SECRET' })).code).toBe('ERR_CAPABILITY_DENIED')
  })

  it("a granted secret's value in a thrown error message is redacted", async () => {
    const error = await h.failure('secrets', { attack: true, mode: 'throw' })
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toMatch(/^request failed with token \[redacted\] \(index\.ts:\d+:\d+\)$/)
    expect(JSON.stringify(h.host.status())).not.toContain('9f8e7d')
  })

  it("a granted secret's value in a log line and its fields (where JSON escapes its quote and backslash) is redacted", async () => {
    await h.invoke('secrets', { attack: true, mode: 'log' })
    await eventually(() => h.logs.some((l) => l.component === 'secrets' && l.msg === 'token is [redacted]'))
    const line = h.logs.find((l) => l.component === 'secrets' && l.msg === 'token is [redacted]')!
    expect(line.fields).toEqual({ token: '[redacted]', nested: { headers: { authorization: 'Bearer [redacted]' } } })
    expect(leaked(h.logs)).toBe(false)
  })
})

describe('emit', () => {
  it('a topic outside the grant is refused', async () => {
    for (const topic of ['payments.charged', 'orders', 'auditx', 'audit.sub']) {
      expect((await h.failure('emitter', { attack: true, topic, payload: {} })).code).toBe('ERR_CAPABILITY_DENIED')
    }
    expect(h.events.filter((e) => e.source === 'component:emitter')).toEqual([])
  })

  it('a granted topic is published (the control)', async () => {
    expect(await h.invoke('emitter', { attack: true, topic: 'orders.created', payload: { id: 1 } })).toEqual({ emitted: 'orders.created' })
    expect(h.events.filter((e) => e.source === 'component:emitter').map((e) => e.topic)).toEqual(['orders.created'])
  })

  it("the engine's own islet.* topics are refused, whatever the grant says", async () => {
    const error = await h.failure('forger', { attack: true, topic: 'islet.config.reloaded' })
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.message).toContain("topics under islet.* are the engine's own")
    expect(h.events.filter((e) => e.source === 'component:forger')).toEqual([])
  })

  it('a payload over the 64 KiB cap is refused inside the sandbox', async () => {
    expect((await h.failure('emitter', { attack: true, topic: 'orders.big', size: 70_000 })).code).toBe('ERR_CAPABILITY_ARGUMENT_TOO_LARGE')
    expect(h.events.some((e) => e.topic === 'orders.big')).toBe(false)
  })

  it("a grant of 'orders.*' lets no wildcard, empty segment, control character or overlong topic through", async () => {
    const before = h.events.length
    for (const topic of ['orders.*', 'orders.#', 'orders.>', 'orders..', 'orders.', 'orders.a\nb', 'orders.a b', 'orders.Created', `orders.${'x'.repeat(249)}`]) {
      const error = await h.failure('emitter', { attack: true, topic, payload: {} })
      expect(error.code, topic).toBe(topic.length > 255 ? 'ERR_CAPABILITY_ARGUMENT_TOO_LARGE' : 'ERR_CAPABILITY_DENIED')
      expect(error.message).not.toContain('\n')
    }
    expect(h.events.length).toBe(before)
  })

  it('a refusal quotes at most 60 characters of the topic', async () => {
    const error = await h.failure('emitter', { attack: true, topic: 'payments.', repeat: 200, payload: {} })
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
    expect(error.message).toContain(`"payments.${'x'.repeat(51)}…"`)
    expect(error.message).not.toContain('x'.repeat(52))
  })
})

/**
 * An 8 MiB argument is refused inside the sandbox: a short refusal, nothing published, nothing read. Before, each
 * one crossed to the engine, was parsed on its event loop and echoed back whole in the refusal. The engine's event
 * loop delay during the attack is printed, never asserted.
 */
describe('capability-call arguments of any size', () => {
  const EIGHT_MIB = 8 * 1024 * 1024
  async function attack(name: string, input: Record<string, unknown>): Promise<void> {
    const delay = monitorEventLoopDelay({ resolution: 1 })
    delay.enable()
    for (let i = 0; i < 5; i++) {
      const error = await h.failure(name, { attack: true, ...input })
      expect(error.code).toBe('ERR_CAPABILITY_ARGUMENT_TOO_LARGE')
      expect(error.message.length).toBeLessThan(300)
    }
    delay.disable()
    console.log(`[figure] ${name}: 5 calls with an 8 MiB argument; engine event loop delay max ${(delay.max / 1e6).toFixed(1)} ms`)
  }

  it('an 8 MiB topic', async () => {
    const before = h.events.length
    await attack('emitter', { topic: 'orders.', repeat: EIGHT_MIB })
    expect(h.events.length).toBe(before)
  })

  it('an 8 MiB topic, after the component rewrote every prototype and global the check could use', async () => {
    const before = h.events.length
    await attack('polluted-caps', { repeat: EIGHT_MIB })
    expect(h.events.length).toBe(before)
  })

  it('an 8 MiB secret name', async () => {
    await attack('secret-name', { repeat: EIGHT_MIB })
  })

  it('an 8 MiB fetch URL, with nothing connected', async () => {
    const before = target.connections
    await attack('fetch-url', { url: `${target.origin}/`, repeat: EIGHT_MIB })
    expect(target.connections).toBe(before)
  })
})

describe('kv', () => {
  it(`a key over ${KV_LIMITS.keyBytes} bytes, an empty key and a non-string key are refused`, async () => {
    // Too long: refused inside the sandbox, before the engine receives it; the others by the engine's kv.
    expect((await h.failure('kv', { attack: true, mode: 'get', key: 'k'.repeat(KV_LIMITS.keyBytes + 1) })).code).toBe('ERR_CAPABILITY_ARGUMENT_TOO_LARGE')
    for (const key of ['', 42, null]) {
      expect((await h.failure('kv', { attack: true, mode: 'get', key })).code).toBe('ERR_CAPABILITY_DENIED')
    }
  })

  it(`a value over ${KV_LIMITS.valueBytes} bytes is refused`, async () => {
    expect((await h.failure('kv', { attack: true, mode: 'set', key: 'big', size: KV_LIMITS.valueBytes })).code).toBe('ERR_CAPABILITY_DENIED')
    expect(await h.invoke('kv', { attack: true, mode: 'get', key: 'big' })).toEqual({ value: null })
  })

  it("one component cannot read another's keys: namespaces are per component", async () => {
    expect(await h.invoke('kv-neighbour', { attack: true })).toEqual({ set: true })
    expect(await h.invoke('kv', { attack: true, mode: 'get', key: 'shared' })).toEqual({ value: null })
  })
})

describe('a ctx kept from an earlier invocation', () => {
  it('is refused in a later invocation', async () => {
    expect(await h.invoke('stale-ctx', { attack: true, mode: 'keep' })).toEqual({ kept: true })
    const error = await h.failure('stale-ctx', { attack: true, mode: 'use' })
    expect(error.code).toBe('ERR_CAPABILITY_DENIED')
  })

  it('a ctx kept from init is refused in execute', async () => {
    expect((await h.failure('init-ctx', {})).code).toBe('ERR_CAPABILITY_DENIED')
  })

  it('flooding it counts against the running invocation\'s host-call budget', async () => {
    expect(await h.invoke('stale-ctx', { attack: true, mode: 'keep' })).toEqual({ kept: true })
    expect((await h.failure('stale-ctx', { attack: true, mode: 'flood' })).code).toBe('ERR_SANDBOX_HOST_CALL_LIMIT')
  })
})

describe('logging', () => {
  it(`${FLOOD} log calls are bounded: the host sees the rate-limited lines, and a count of every line dropped`, async () => {
    expect(await h.invoke('log-flood', { attack: true })).toEqual({ done: true })
    const lines = () => h.logs.filter((l) => l.component === 'log-flood' && l.msg.startsWith('line '))
    const dropped = () => h.logs.filter((l) => l.component === 'log-flood' && typeof l.dropped === 'number')
      .reduce((sum, l) => sum + (l.dropped as number), 0)
    // Every call is accounted for, as a line or in a dropped count, once the last batch has arrived.
    await eventually(() => lines().length + dropped() === FLOOD)
    // The gate lets through a burst of 100, then 50 a second; the invocation cannot outlive its deadline (plus the
    // supervisor's second of grace), so this bound holds however long the flood took.
    expect(lines().length).toBeLessThanOrEqual(100 + 50 * Math.ceil(ROOMY.timeoutMs / 1000 + 1))
    expect(dropped()).toBeGreaterThan(0)
  })

  it('a 1 MB log message and 100 KB of fields are cut down', async () => {
    expect(await h.invoke('log-huge', { attack: true })).toEqual({ logged: true })
    const isHuge = (l: LogLine) => l.component === 'log-huge' && l.msg.startsWith('mmm')
    await eventually(() => h.logs.some(isHuge))
    const line = h.logs.find(isHuge)!
    expect(line.msg.length).toBeLessThan(2_100)
    expect(line.fields).toEqual({ truncated: true })
  })
})
