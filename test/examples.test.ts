// The flagship example end to end, as `npm start` runs it: a real `islet run` process, real HTTP, a real SQLite
// file whose data survives a restart.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readLock, tarballFileName, VENDOR_DIR } from '../registry/client/index.ts'
import { packFolder } from '../registry/pack.ts'
import { keyIdOf, verifyVersion } from '../registry/signature.ts'
import { spawnIslet } from './support/cli.ts'
import { json } from './support/app.ts'

const APP = join(import.meta.dirname, '..', 'examples', 'orders', 'app.yaml')
const dataDir = mkdtempSync(join(tmpdir(), 'islet-orders-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

async function start(data = dataDir) {
  const run = spawnIslet(['run', APP], { env: { PORT: '0', ISLET_DATA_DIR: data } })
  const line = await run.waitFor((l) => typeof l.url === 'string')
  return { run, url: String(line.url) }
}

async function stop(run: Awaited<ReturnType<typeof start>>['run']) {
  run.child.kill('SIGTERM')
  expect(await run.exited).toBe(0)
}

describe('examples/orders', () => {
  it('creates, lists and fetches orders; data survives a restart', async () => {
    let { run, url } = await start()
    const created = await fetch(`${url}/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'TEA-1', qty: 2, note: 'green' }),
    })
    expect(created.status).toBe(201)
    const order = await json(created)
    expect(order).toMatchObject({ sku: 'TEA-1', qty: 2, note: 'green', total: 9, currency: 'EUR' })
    expect(created.headers.get('location')).toBe(`/orders/${order.id}`)
    expect(created.headers.get('x-sku-orders')).toBe('1') // the kv-backed counter component

    const quote = await fetch(`${url}/quote`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'MUG-1', qty: 10 }),
    })
    expect(await json(quote)).toEqual({ sku: 'MUG-1', qty: 10, unitPrice: 12, discount: 12, total: 108, currency: 'EUR' })
    const badQuote = await fetch(`${url}/quote`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'MUG-1', qty: 0 }),
    })
    expect(badQuote.status).toBe(400)
    expect((await json(badQuote)).error.code).toBe('ERR_COMPONENT_INPUT_INVALID')

    const list = await json(await fetch(`${url}/orders`))
    expect(list.count).toBe(1)
    expect(list.orders[0]).toEqual(order)

    const missing = await fetch(`${url}/orders/nope`)
    expect(missing.status).toBe(404)
    expect((await json(missing)).error).toMatchObject({ code: 'ERR_ORDER_NOT_FOUND', message: 'no order with id nope' })

    const invalid = await fetch(`${url}/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'tea 1', qty: 0 }),
    })
    expect(invalid.status).toBe(400)
    expect((await json(invalid)).error.code).toBe('ERR_VALIDATION')
    await stop(run)

    ;({ run, url } = await start())
    const again = await fetch(`${url}${created.headers.get('location')}`)
    expect(again.status).toBe(200)
    expect(await json(again)).toEqual(order)
    const second = await fetch(`${url}/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'TEA-1', qty: 1 }),
    })
    expect(second.headers.get('x-sku-orders')).toBe('2') // the counter's kv survived the restart
    expect(run.logs.some((l) => l.msg === 'engine ready')).toBe(true)
    await stop(run)
  })

  it('counts every one of 50 orders placed at once (the counter increments atomically)', async () => {
    const data = mkdtempSync(join(tmpdir(), 'islet-orders-race-'))
    const { run, url } = await start(data)
    try {
      const order = () => fetch(`${url}/orders`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'POT-1', qty: 1 }),
      })
      const responses = await Promise.all(Array.from({ length: 50 }, order))
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201))
      // Each order saw its own count: 1 to 50, none lost and none repeated (get-then-set gave repeats and ended short).
      const counts = responses.map((r) => Number(r.headers.get('x-sku-orders'))).sort((a, b) => a - b)
      expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    } finally {
      await stop(run)
      rmSync(data, { recursive: true, force: true })
    }
  })
})

describe('examples/orders: the shipping plugin, locked, signed and vendored', () => {
  const EXAMPLE = join(import.meta.dirname, '..', 'examples', 'orders')
  const PLUGIN = join(import.meta.dirname, '..', 'examples', 'plugins', 'shipping')
  const NAME = '@islet-examples/shipping'

  it('ships exactly the plugin in the repo (packed), signed as islet.lock pins it', async () => {
    const lock = readLock(join(EXAMPLE, 'islet.lock'))!
    const entry = lock.plugins[NAME]!
    const packed = await packFolder(PLUGIN)
    expect(entry, 'islet.lock is current: after changing the plugin, run node test/support/relock-example.ts')
      .toMatchObject({ version: packed.packageJson.version, integrity: packed.integrity })
    expect(readdirSync(join(EXAMPLE, VENDOR_DIR))).toEqual([tarballFileName(entry.integrity)])
    expect(readFileSync(join(EXAMPLE, VENDOR_DIR, tarballFileName(entry.integrity))).equals(packed.tarball)).toBe(true)
    const key = lock.keys[entry.keyid]!
    expect(keyIdOf(key.key)).toBe(entry.keyid)
    expect(verifyVersion(key.key, NAME, entry.version, entry.integrity, entry.sig)).toBe(true)
  })

  it('npm start from a fresh data dir verifies it and serves POST /shipping with no registry server', async () => {
    const data = mkdtempSync(join(tmpdir(), 'islet-orders-shipping-'))
    const { run, url } = await start(data)
    try {
      const post = (body: unknown) => fetch(`${url}/shipping`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const quote = await post({ country: 'FR', weightKg: 1.5 })
      expect(await json(quote)).toEqual({ country: 'FR', zone: 'eu', cost: 12.3, currency: 'EUR', days: 4 })
      const tooHeavy = await post({ country: 'FR', weightKg: 31 })
      expect(tooHeavy.status).toBe(400)
      expect((await json(tooHeavy)).error.code).toBe('ERR_COMPONENT_INPUT_INVALID')
      // Loaded from islet-vendor/: no registry was opened and nothing was downloaded into the cache.
      expect(existsSync(join(data, 'registry'))).toBe(false)
      expect(existsSync(join(data, 'plugins', 'tarballs'))).toBe(false)
      expect(readdirSync(join(data, 'plugins', 'packages', '@islet-examples'))).toEqual([expect.stringMatching(/^shipping@1\.0\.0-[0-9a-f]{16}$/)])
    } finally {
      await stop(run)
      rmSync(data, { recursive: true, force: true })
    }
  })
})
