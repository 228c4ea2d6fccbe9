// The read side of the npm protocol: the packument (full, or abbreviated for `Accept: application/vnd.npm.install-v1+json`),
// one version (`GET /:pkg/:version-or-tag`) and tarballs. Packuments carry an ETag so a repeat is a 304, and are
// gzipped when the client accepts it (npm always does); tarballs are gzip already and go out as they are stored.
import type Router from '@koa/router'
import type { Context } from 'koa'
import { createHash } from 'node:crypto'
import { baseNameOf } from '../../package-name.ts'
import { RegistryHttpError } from '../http-error.ts'
import type { RouteDeps } from '../options.ts'
import { ABBREVIATED_TYPE, packumentOf, versionDocument } from '../packument.ts'
import { renderedCache } from '../rendered.ts'
import { PKG, decoded, route } from './paths.ts'

/** Where tarball links point: the configured public URL, else this request's own origin. */
export function baseUrl(ctx: Context, deps: RouteDeps): string {
  return deps.publicUrl ?? `${ctx.protocol}://${ctx.host}/`
}

export function readRoutes(router: Router, deps: RouteDeps): void {
  const { store } = deps

  router.get(route(`/${PKG}/-/([^/]+\\.tgz)`), (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const file = decoded(ctx.captures?.[1])
    const prefix = `${baseNameOf(name)}-`
    const version = file.startsWith(prefix) ? file.slice(prefix.length, -'.tgz'.length) : ''
    const row = version === '' ? undefined : store.version(name, version)
    if (!row || row.unpublished_at !== null) throw notFound(`${name}/-/${file}`, row ? 'it was unpublished' : undefined)
    const bytes = store.readTarball(row.tarball, row.integrity)
    if (!bytes) throw new RegistryHttpError(500, 'ERR_REGISTRY_INTEGRITY', `the stored tarball of ${name}@${version} is missing or no longer matches ${row.integrity}; it is not served`, 'the registry operator must restore it from a backup')
    ctx.type = 'application/octet-stream'
    ctx.body = bytes
  })

  const rendered = renderedCache()

  router.get(route(`/${PKG}`), (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const abbreviated = ctx.query.write !== 'true' && (ctx.get('accept') ?? '').includes(ABBREVIATED_TYPE)
    const pkg = store.package(name)
    // The revision, the form and the Host (tarball links) decide the document; dist-tags are hashed in as well
    // because the dist-tag routes (registry/server/auth/) write them without bumping the revision.
    if (!pkg) throw notFound(name)
    const tags = JSON.stringify(store.distTags(name))
    const key = createHash('sha1').update(`${store.revOf(pkg)}\0${tags}\0${abbreviated}\0${baseUrl(ctx, deps)}`).digest('base64url')
    // Weak: the gzip and the plain bytes are one document (RFC 9110 8.8.1), so a client holding either gets its 304
    // whatever it accepts now (If-None-Match compares weakly).
    ctx.etag = `W/"${key}"`
    ctx.vary('accept')
    ctx.vary('accept-encoding')
    ctx.status = 200 // Koa judges freshness only for a 2xx
    if (ctx.fresh) { ctx.status = 304; return }
    const entry = rendered.get(key, () => {
      const packument = packumentOf(store, name, baseUrl(ctx, deps), { abbreviated })
      if (!packument) throw notFound(name, 'every version was unpublished')
      return JSON.stringify(packument)
    })
    ctx.type = abbreviated ? `${ABBREVIATED_TYPE}; charset=utf-8` : 'application/json'
    const gzip = ctx.acceptsEncodings('gzip', 'identity') === 'gzip' ? rendered.gzipOf(entry) : null
    if (gzip) ctx.set('content-encoding', 'gzip')
    ctx.body = gzip ?? entry.json
  })

  router.get(route(`/${PKG}/([^/]+)`), (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const wanted = decoded(ctx.captures?.[1])
    const version = store.distTags(name)[wanted] ?? wanted
    const row = store.version(name, version)
    if (!row || row.unpublished_at !== null) throw notFound(`${name}@${wanted}`, row ? 'it was unpublished' : undefined)
    ctx.body = versionDocument(row, baseUrl(ctx, deps))
  })
}

function notFound(what: string, why?: string): RegistryHttpError {
  return new RegistryHttpError(404, 'ERR_REGISTRY_NOT_FOUND', `${what} is not in this registry${why ? `: ${why}` : ''}`, 'check the name and version (npm view <name> versions)')
}
