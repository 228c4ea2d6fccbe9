// `npm dist-tag ls|add|rm`: GET /-/package/:pkg/dist-tags, PUT and DELETE /-/package/:pkg/dist-tags/:tag. Reads and
// writes the server-core's dist_tags table; writes go through the Authenticator, append to the audit log in the same
// transaction, and refuse a tag that is a semver range (npm would read `pkg@<tag>` as a range) or points at a
// version that does not exist or was unpublished.
import type Router from '@koa/router'
import type BetterSqlite3 from 'better-sqlite3'
import type { Context } from 'koa'
import semver from 'semver'
import { RegistryHttpError } from '../http-error.ts'
import type { Authenticator } from '../principal.ts'
import { jsonBody } from './json-body.ts'
import { packageParam, packagePaths } from './package-param.ts'

export interface DistTagOptions {
  db: BetterSqlite3.Database
  auth: Authenticator
  now?: () => Date
}

const TAG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export function distTagRoutes(router: Router, options: DistTagOptions): void {
  const { db, auth } = options
  const now = options.now ?? (() => new Date())

  function tagsOf(pkg: string): Record<string, string> {
    if (!db.prepare('SELECT 1 FROM packages WHERE name = ?').get(pkg)) {
      throw new RegistryHttpError(404, 'ERR_REGISTRY_DIST_TAG_NOT_FOUND', `there is no package ${pkg} in this registry`, 'check the name (npm view <name>), or publish the package first')
    }
    const rows = db.prepare('SELECT tag, version FROM dist_tags WHERE name = ? ORDER BY tag').all(pkg) as { tag: string; version: string }[]
    return Object.fromEntries(rows.map((row) => [row.tag, row.version]))
  }

  function checkedTag(ctx: Context): string {
    const tag = String(ctx.params['tag'])
    if (semver.validRange(tag) !== null) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_DIST_TAG_INVALID', `dist-tag "${tag}" is a valid semver range, so \`pkg@${tag}\` would mean the range: pick a name such as "next" or "beta"`)
    }
    if (!TAG.test(tag)) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_DIST_TAG_INVALID', `dist-tag "${tag}" is not valid: use letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit`)
    }
    return tag
  }

  /** The package changed: a new `_rev` and modified time, as the server-core's store.touch does (packument ETags follow). */
  function touch(pkg: string): void {
    db.prepare('UPDATE packages SET rev = rev + 1, modified = ? WHERE name = ?').run(now().toISOString(), pkg)
  }

  function audit(actor: string, action: string, pkg: string, version: string, integrity: string | null, detail: Record<string, unknown>): void {
    db.prepare('INSERT INTO audit (at, actor, action, name, version, integrity, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(now().toISOString(), actor, action, pkg, version, integrity, JSON.stringify(detail))
  }

  for (const path of packagePaths('/-/package/:pkg/dist-tags')) {
    router.get(path, (ctx) => {
      ctx.set('Cache-Control', 'no-cache')
      ctx.body = tagsOf(packageParam(ctx))
    })
  }

  for (const path of packagePaths('/-/package/:pkg/dist-tags/:tag')) {
    router.put(path, async (ctx) => {
      const pkg = packageParam(ctx)
      const tag = checkedTag(ctx)
      const who = await auth.requireWrite(ctx, pkg)
      const version = await jsonBody(ctx)
      if (typeof version !== 'string' || semver.valid(version) === null) {
        throw new RegistryHttpError(422, 'ERR_REGISTRY_DIST_TAG_INVALID', `the body of a dist-tag PUT is the version as a JSON string (e.g. "1.2.0"), not ${JSON.stringify(version)}`)
      }
      const previous = tagsOf(pkg)[tag]
      const row = db.prepare('SELECT integrity, unpublished_at FROM versions WHERE name = ? AND version = ?').get(pkg, version) as
        { integrity: string; unpublished_at: string | null } | undefined
      if (!row) throw new RegistryHttpError(404, 'ERR_REGISTRY_DIST_TAG_TARGET', `${pkg}@${version} does not exist: \`npm view ${pkg} versions\` lists the versions`)
      if (row.unpublished_at !== null) {
        throw new RegistryHttpError(422, 'ERR_REGISTRY_DIST_TAG_TARGET', `${pkg}@${version} was unpublished at ${row.unpublished_at}: tag a version that is still published`)
      }
      db.transaction(() => {
        db.prepare('DELETE FROM dist_tags WHERE name = ? AND tag = ?').run(pkg, tag)
        db.prepare('INSERT INTO dist_tags (name, tag, version) VALUES (?, ?, ?)').run(pkg, tag, version)
        touch(pkg)
        audit(who.user, 'dist-tag.add', pkg, version, row.integrity, { tag, previous: previous ?? null, token: who.tokenId })
      })()
      ctx.status = 201
      ctx.body = { ok: true, 'dist-tags': tagsOf(pkg) }
    })

    router.delete(path, async (ctx) => {
      const pkg = packageParam(ctx)
      const tag = String(ctx.params['tag'])
      const who = await auth.requireWrite(ctx, pkg)
      const version = tagsOf(pkg)[tag]
      if (version === undefined) throw new RegistryHttpError(404, 'ERR_REGISTRY_DIST_TAG_NOT_FOUND', `${pkg} has no dist-tag "${tag}": \`npm dist-tag ls ${pkg}\` lists them`)
      if (tag === 'latest') {
        throw new RegistryHttpError(422, 'ERR_REGISTRY_DIST_TAG_INVALID', `the latest tag of ${pkg} cannot be removed: move it with \`npm dist-tag add ${pkg}@<version> latest\``)
      }
      db.transaction(() => {
        db.prepare('DELETE FROM dist_tags WHERE name = ? AND tag = ?').run(pkg, tag)
        touch(pkg)
        audit(who.user, 'dist-tag.rm', pkg, version, null, { tag, token: who.tokenId })
      })()
      ctx.body = { ok: true, 'dist-tags': tagsOf(pkg) }
    })
  }
}
