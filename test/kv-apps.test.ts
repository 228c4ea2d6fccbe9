// kv is kept per app: two apps sharing a data directory, each with a component called `counter`, never see each
// other's keys; rows written before kv was kept per app go, whole, to the first app that opens their namespace.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApp } from '../runtime/app.ts'
import type { Engine } from '../runtime/engine/engine.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import type { HttpServer } from '../plugins/http/index.ts'
import { json, writeFiles } from './support/app.ts'

const COUNTER = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'counter',
  async execute(_input: unknown, ctx) {
    return { hits: await ctx.kv.increment('hits'), keys: await ctx.kv.list('') }
  },
})
`
const app = (key: string) => `apiVersion: islet/v1
components:
  - file: ./counter.ts
    grants: { kv: true }
modules:
  - name: api
    type: http.router
    config: { routes: [{ method: POST, path: /hit, pipeline: hit }] }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  hit:
    steps:
      - name: c
        type: component
        config: { component: counter, input: {} }
      - type: respond
        config: { body: { app: ${key}, hits: '\${{ steps.c.hits }}', keys: '\${{ steps.c.keys }}' } }
`

const { dir, cleanup } = writeFiles({ 'a/app.yaml': app('a'), 'a/counter.ts': COUNTER, 'b/app.yaml': app('b'), 'b/counter.ts': COUNTER })
const dataDir = join(dir, 'data')
const engines: Engine[] = []
const start = async (name: string) => {
  const engine = await openApp(join(dir, name, 'app.yaml'), { registry: createBuiltinRegistry(), logger: silentLogger(), dataDir, env: {} })
  engines.push(engine)
  await engine.start()
  return engine
}
const hit = async (engine: Engine) => json(await fetch(`${engine.module<HttpServer>('web').url()}/hit`, { method: 'POST' }))

beforeAll(() => {
  // A kv file as the engine wrote it before kv was kept per app (schema 1): component `counter` at 41 hits.
  mkdirSync(dataDir, { recursive: true })
  const old = new Database(join(dataDir, 'islet-kv.db'))
  old.exec(`CREATE TABLE kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
      version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (namespace, key)) WITHOUT ROWID;
    CREATE TABLE kv_usage (namespace TEXT PRIMARY KEY, bytes INTEGER NOT NULL, keys INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO kv VALUES ('counter', 'hits', '41', 'then', 7), ('counter', 'note', '"kept"', 'then', 3);
    INSERT INTO kv_usage VALUES ('counter', 19, 2, 7);
    PRAGMA user_version = 1;`)
  old.close()
})
afterAll(async () => {
  for (const engine of engines) await engine.stop()
  cleanup()
})

describe('kv per app', () => {
  it('two apps with a component of the same name, one data directory: neither sees the other’s keys', async () => {
    const a = await start('a')
    // The first app to open `counter` takes over what was stored before: nothing is lost.
    expect(await hit(a)).toEqual({ app: 'a', hits: 42, keys: ['hits', 'note'] })
    const b = await start('b')
    expect(await hit(b)).toEqual({ app: 'b', hits: 1, keys: ['hits'] })
    expect(await hit(b)).toEqual({ app: 'b', hits: 2, keys: ['hits'] })
    expect(await hit(a)).toEqual({ app: 'a', hits: 43, keys: ['hits', 'note'] })
    const status = (e: Engine) => e.components!.status().find((c) => c.name === 'counter')!.kv
    expect(status(b)).toMatchObject({ keys: 1 })
    expect(status(a)).toMatchObject({ keys: 2 })
  })
})
