// The write side of the npm protocol, as npm 11 drives it:
// - `PUT /:pkg` with `_attachments` publishes one version; without (or with `{}`) it is npm deprecate's metadata
//   update: the whole packument back, where only `deprecated` may differ.
// - `PUT /:pkg/-rev/:rev` is npm unpublish's metadata update: versions missing from it are unpublished (within 72 h),
//   then `DELETE /<tarball path>/-rev/:rev`; `DELETE /:pkg/-rev/:rev` unpublishes the whole package.
// npm swallows a 404 during unpublish and reports success, so a refusal there is never a 404.
import type Router from '@koa/router'
import type { Context } from 'koa'
import { isDeepStrictEqual } from 'node:util'
import { baseNameOf } from '../../package-name.ts'
import { RegistryHttpError } from '../http-error.ts'
import type { RouteDeps } from '../options.ts'
import { packumentOf } from '../packument.ts'
import { publishVersion } from '../publish.ts'
import { unpublishVersions } from '../unpublish.ts'
import { setDeprecations } from '../yank.ts'
import { objectBody, readJson } from './body.ts'
import { PKG, decoded, route } from './paths.ts'
import { baseUrl } from './read.ts'
import { requireWrite } from './write-access.ts'

export function writeRoutes(router: Router, deps: RouteDeps): void {
  const { store } = deps

  router.put(route(`/${PKG}`), async (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const principal = await requireWrite(ctx, deps, name)
    const body = objectBody(await readJson(ctx, deps.limits.publishBytes, deps.bodies), "npm's publish document")
    if (body.name !== undefined && body.name !== name) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_MANIFEST_MISMATCH', `name: the document is for '${String(body.name)}', but it was sent to ${ctx.path}`, 'publish with npm publish or islet plugin publish', { field: 'name' })
    }
    const attachments = body._attachments
    if (attachments !== undefined && attachments !== null && (typeof attachments !== 'object' || Array.isArray(attachments))) {
      throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', '_attachments must be an object of tarballs', 'publish with npm publish or islet plugin publish')
    }
    const entries = Object.entries((attachments ?? {}) as Record<string, unknown>)
    if (entries.length === 0) {
      applyMetadata(ctx, deps, name, body, principal.user, { removals: false })
      ctx.status = 200
      ctx.body = { ok: 'package changed', success: true }
      return
    }
    if (entries.length > 1) {
      throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `a publish carries exactly one tarball, this one carries ${entries.length} (${entries.map(([k]) => k).join(', ')})`, 'publish one version at a time')
    }
    const [key, attachment] = entries[0] as [string, unknown]
    const tarball = attachmentBytes(key, attachment)
    const row = await publishVersion(store, {
      name, tarball, actor: principal.user, checkComponents: deps.checkComponents, limits: deps.limits.tarball,
      request: { versions: body.versions, distTags: body['dist-tags'] },
    })
    ctx.status = 201
    ctx.body = { ok: `published ${name}@${row.version}`, success: true, id: `${name}@${row.version}`, integrity: row.integrity }
  })

  router.put(route(`/${PKG}/-rev/([^/]+)`), async (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const principal = await requireWrite(ctx, deps, name)
    checkRev(deps, name, decoded(ctx.captures?.[1]))
    const body = objectBody(await readJson(ctx, deps.limits.publishBytes, deps.bodies), 'the packument with the versions to keep')
    applyMetadata(ctx, deps, name, body, principal.user, { removals: true })
    ctx.status = 201
    ctx.body = { ok: 'package changed' }
  })

  router.delete(route(`/${PKG}/-rev/([^/]+)`), async (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const principal = await requireWrite(ctx, deps, name)
    checkRev(deps, name, decoded(ctx.captures?.[1]))
    const removed = unpublishVersions(store, name, undefined, principal.user)
    if (removed.length === 0) throw new RegistryHttpError(404, 'ERR_REGISTRY_NOT_FOUND', `${name} has no published versions to unpublish`, `npm view ${name} versions`)
    ctx.status = 201
    ctx.body = { ok: 'package removed', versions: removed }
  })

  router.delete(route(`/${PKG}/-/([^/]+\\.tgz)/-rev/([^/]+)`), async (ctx) => {
    const name = decoded(ctx.captures?.[0])
    const file = decoded(ctx.captures?.[1])
    const principal = await requireWrite(ctx, deps, name)
    const prefix = `${baseNameOf(name)}-`
    const version = file.startsWith(prefix) ? file.slice(prefix.length, -'.tgz'.length) : ''
    const row = store.version(name, version)
    if (!row) throw new RegistryHttpError(404, 'ERR_REGISTRY_NOT_FOUND', `${name}/-/${file} is not in this registry`, `npm view ${name} versions`)
    // npm removes the version from the packument first, then its tarball: by then it is already unpublished.
    if (row.unpublished_at === null) {
      checkRev(deps, name, decoded(ctx.captures?.[2]))
      unpublishVersions(store, name, [version], principal.user)
    }
    ctx.status = 201
    ctx.body = { ok: 'tarball removed' }
  })
}

/** A revision other than the current one means the client read the package before someone else changed it. */
function checkRev(deps: RouteDeps, name: string, rev: string): void {
  const pkg = deps.store.package(name)
  if (!pkg) throw new RegistryHttpError(404, 'ERR_REGISTRY_NOT_FOUND', `${name} is not in this registry`, 'check the name')
  const current = deps.store.revOf(pkg)
  if (rev !== 'undefined' && rev !== current) {
    throw new RegistryHttpError(409, 'ERR_REGISTRY_REV_CONFLICT', `${name} changed since it was read (revision ${rev}, now ${current})`, 'run the command again')
  }
}

function attachmentBytes(key: string, attachment: unknown): Buffer {
  const a = attachment as { data?: unknown; length?: unknown } | null
  if (typeof a !== 'object' || a === null || typeof a.data !== 'string') {
    throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `_attachments['${key}'] has no base64 data`, 'publish with npm publish or islet plugin publish')
  }
  const bytes = Buffer.from(a.data, 'base64')
  if (a.length !== undefined && a.length !== bytes.length) {
    throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `_attachments['${key}'] says it is ${String(a.length)} bytes but its data decodes to ${bytes.length}`, 'the upload was damaged: publish again')
  }
  return bytes
}

/**
 * A packument sent back: `deprecated` may change (npm deprecate) and, on the `-rev` route, versions may be missing
 * (npm unpublish: they are unpublished); a version the registry does not have, or any other change, is refused naming it.
 */
function applyMetadata(ctx: Context, deps: RouteDeps, name: string, body: Record<string, unknown>, actor: string, options: { removals: boolean }): void {
  const current = packumentOf(deps.store, name, baseUrl(ctx, deps))
  if (!current) throw new RegistryHttpError(404, 'ERR_REGISTRY_NOT_FOUND', `${name} is not in this registry, and a version is added only by publishing its tarball`, 'npm publish')
  const sent = body.versions
  if (typeof sent !== 'object' || sent === null || Array.isArray(sent)) {
    throw new RegistryHttpError(422, 'ERR_REGISTRY_CHANGE_REFUSED', `the document sent to ${ctx.path} has no versions object; a publish carries its tarball in _attachments`, 'publish with npm publish; change versions with npm deprecate or npm unpublish')
  }
  const deprecations = new Map<string, string | null>()
  for (const [version, doc] of Object.entries(sent as Record<string, unknown>)) {
    const stored = current.versions[version]
    if (!stored) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_CHANGE_REFUSED', `versions.${version}: ${name}@${version} is not published here, and a version is added only with its tarball`, 'publish it with npm publish', { field: `versions.${version}` })
    }
    const versionDoc = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>
    const field = firstDifference(versionDoc, stored)
    if (field !== undefined) {
      throw new RegistryHttpError(422, 'ERR_REGISTRY_CHANGE_REFUSED', `versions.${version}.${field}: only a version's deprecation can change after publish, and this request changes ${field}`, 'publish a new version with the change', { field: `versions.${version}.${field}` })
    }
    const message = typeof versionDoc.deprecated === 'string' && versionDoc.deprecated !== '' ? versionDoc.deprecated : null
    if (message !== ((stored.deprecated as string | undefined) ?? null)) deprecations.set(version, message)
  }
  const removed = Object.keys(current.versions).filter((v) => !(v in (sent as Record<string, unknown>)))
  if (removed.length > 0 && !options.removals) {
    throw new RegistryHttpError(422, 'ERR_REGISTRY_CHANGE_REFUSED', `versions.${removed[0]}: the document leaves out ${name}@${removed.join(', ')}, but this request may change only deprecations`, `unpublish with npm unpublish ${name}@${removed[0]}`, { field: `versions.${removed[0]}` })
  }
  if (removed.length > 0) unpublishVersions(deps.store, name, removed, actor)
  if (deprecations.size > 0) setDeprecations(deps.store, name, deprecations, actor)
}

function firstDifference(sent: Record<string, unknown>, stored: Record<string, unknown>): string | undefined {
  const fields = new Set([...Object.keys(sent), ...Object.keys(stored)])
  fields.delete('deprecated')
  for (const field of fields) if (!isDeepStrictEqual(sent[field], stored[field])) return field
  return undefined
}
