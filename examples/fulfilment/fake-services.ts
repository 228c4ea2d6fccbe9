// The two outside services the fulfilment example talks to, faked on loopback for the tour and the test:
//   payments (PAYMENTS_PORT, 4010): POST /charges takes { order, amount, currency, card } with an Idempotency-Key
//     header. Each key's first FAIL_FIRST (2) attempts answer 503, as a gateway having a bad minute does; the card
//     BROKEN_CARD (tok_broken) always gets 503. A key charged already answers the same charge again (200), so a
//     retried request never charges twice. GET /charges lists every key with its attempts and charge.
//   notifications (NOTIFY_PORT, 4020): POST /notifications and POST /reports store what they get;
//     GET /notifications and GET /reports list it.
// Run: node examples/fulfilment/fake-services.ts (port 0 picks a free port). It prints one JSON line with both base
// URLs once both listen, then one line per request; SIGINT or SIGTERM stops it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

// Loopback only: these fakes accept anything, so nothing beyond this machine may reach them.
const HOST = '127.0.0.1'
const FAIL_FIRST = Number(process.env.FAIL_FIRST ?? 2)
const BROKEN_CARD = process.env.BROKEN_CARD ?? 'tok_broken'

interface Charge { id: string; order: unknown; amount: unknown; currency: unknown; attempts: number }
const attempts = new Map<string, { attempts: number; charge?: Charge }>()
const received: Record<string, unknown[]> = { '/notifications': [], '/reports': [] }

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = ''
  for await (const chunk of req) text += chunk
  try {
    return text ? JSON.parse(text) : null
  } catch {
    return undefined
  }
}

function log(service: string, line: Record<string, unknown>): void {
  console.log(JSON.stringify({ service, ...line }))
}

async function payments(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/charges') return send(res, 200, Object.fromEntries(attempts))
  if (req.method !== 'POST' || req.url !== '/charges') return send(res, 404, { error: 'not_found' })
  const body = await readJson(req) as { order?: unknown; amount?: unknown; currency?: unknown; card?: unknown } | null | undefined
  const key = req.headers['idempotency-key']
  if (!body || typeof key !== 'string') return send(res, 400, { error: 'bad_request', message: 'a JSON body and an Idempotency-Key header' })
  const seen = attempts.get(key) ?? { attempts: 0 }
  attempts.set(key, seen)
  seen.attempts++
  if (seen.charge) {
    log('payments', { key, attempt: seen.attempts, status: 200, charge: seen.charge.id, replay: true })
    return send(res, 200, seen.charge)
  }
  if (body.card === BROKEN_CARD || seen.attempts <= FAIL_FIRST) {
    log('payments', { key, attempt: seen.attempts, status: 503 })
    return send(res, 503, { error: 'unavailable', message: 'the gateway is having a bad minute' })
  }
  seen.charge = { id: `ch_${attempts.size}_${seen.attempts}`, order: body.order, amount: body.amount, currency: body.currency, attempts: seen.attempts }
  log('payments', { key, attempt: seen.attempts, status: 201, charge: seen.charge.id })
  send(res, 201, seen.charge)
}

async function notifications(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const list = received[req.url ?? '']
  if (!list) return send(res, 404, { error: 'not_found' })
  if (req.method === 'GET') return send(res, 200, list)
  if (req.method !== 'POST') return send(res, 405, { error: 'method_not_allowed' })
  const body = await readJson(req)
  if (body === undefined) return send(res, 400, { error: 'bad_request', message: 'not JSON' })
  list.push(body)
  log('notifications', { path: req.url, received: body })
  send(res, 202, { received: list.length })
}

function serve(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => send(res, 500, { error: 'internal', message: String(error) }))
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, HOST, () => resolve(server))
  })
}

const url = (server: Server) => `http://${HOST}:${(server.address() as AddressInfo).port}`
const servers = await Promise.all([
  serve(payments, Number(process.env.PAYMENTS_PORT ?? 4010)),
  serve(notifications, Number(process.env.NOTIFY_PORT ?? 4020)),
])
console.log(JSON.stringify({ payments: url(servers[0]), notifications: url(servers[1]), failFirst: FAIL_FIRST, brokenCard: BROKEN_CARD }))

// closeAllConnections: the app's keep-alive connections would otherwise hold the process open after close().
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const server of servers) {
      server.close()
      server.closeAllConnections()
    }
  })
}
