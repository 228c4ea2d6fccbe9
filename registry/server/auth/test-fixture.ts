// Test support for the auth and small-endpoint tests: the server-core's tables (same columns as design11.md fixes,
// so these routes are tested against what they will read in the real store), a package seeder, and a real Koa
// server on loopback with npm's error shape, the write rate limiter, the auth routes, ping, search and dist-tags.
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Router from '@koa/router'
import Database from 'better-sqlite3'
import Koa from 'koa'
import { npmErrors } from '../http-error.ts'
import { rateLimit, type RateLimitOptions } from '../rate-limit.ts'
import { createStoreTables } from '../store.ts'
import { createAuth, type Auth } from './index.ts'

/** The server-core's tables, as registry/server/store.ts creates them. */
export const createCoreTables = createStoreTables

export interface SeedVersion {
  version: string
  description?: string
  keywords?: string[]
  unpublished?: boolean
}

/** A package as the server-core's publish would leave it (no tarball on disk: these routes never read one). */
export function seedPackage(db: Database.Database, name: string, owner: string, versions: SeedVersion[], latest = versions.at(-1)?.version): void {
  const at = '2026-01-01T00:00:00.000Z'
  db.prepare('INSERT INTO packages (name, owner, created, modified) VALUES (?, ?, ?, ?)').run(name, owner, at, at)
  for (const v of versions) {
    const manifest = { name, version: v.version, description: v.description, keywords: v.keywords }
    db.prepare(`INSERT INTO versions (name, version, manifest, integrity, shasum, tarball, size, file_count, unpacked_size, published_at,
                published_by, unpublished_at, signatures) VALUES (?, ?, ?, ?, ?, ?, 1, 1, 1, ?, ?, ?, '[]')`)
      .run(name, v.version, JSON.stringify(manifest), `sha512-${name}-${v.version}`, 'x', 'sha512-x.tgz', at, owner, v.unpublished ? at : null)
  }
  if (latest) db.prepare('INSERT INTO dist_tags (name, tag, version) VALUES (?, ?, ?)').run(name, 'latest', latest)
}

export interface TestRegistry {
  url: string
  dir: string
  db: Database.Database
  auth: Auth
  /** The clock the server checks tokens against: move it to expire tokens. */
  clock: { now: Date }
  close(): Promise<void>
}

export async function startTestRegistry(options: { /** 0: any free port (tests run side by side). */ port: number; limits?: Partial<RateLimitOptions> }): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'islet-auth-'))
  const db = new Database(join(dir, 'registry.db'))
  db.pragma('journal_mode = WAL')
  createCoreTables(db)
  const clock = { now: new Date() }
  const now = (): Date => clock.now
  const auth = createAuth(db, { now })
  const router = new Router()
  auth.routes(router)
  const app = new Koa()
  app.silent = true
  app.use(npmErrors)
  app.use(rateLimit({ perMinute: 600, burst: 100, auth, now: () => clock.now.getTime(), ...options.limits }))
  app.use(router.routes())
  app.use(router.allowedMethods())
  const server = app.listen(options.port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`, dir, db, auth, clock,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
