// Publishing a packed plugin: the request `npm publish` makes (libnpmpublish's `PUT /<escaped name>`), so that a
// registry sees no difference between `islet plugin publish` and `npm publish` of the same folder. The document is
// npm's: the version's manifest (package.json plus `_id`, `readme`, `dist`) under `versions`, the tag under
// `dist-tags`, the tarball base64 under `_attachments`. npm also normalises some fields (repository → URL form,
// bugs, homepage); Islet's registry derives every metadata field from the tarball's own package.json, so those are
// not needed and are sent as written.
import { RegistryError } from './errors.ts'
import type { PackResult } from './pack.ts'

export interface PublishOptions {
  /** The registry's base URL; a path (`http://host/npm/`) is kept, with or without the trailing `/`. */
  registry: string
  /** Bearer token (`npm token`, `islet registry token create`); the registry answers 401 without one. */
  token?: string
  /** The dist-tag to point at this version; npm's default is `latest`. */
  tag?: string
}

export interface PublishDocument {
  _id: string
  name: string
  description?: string
  'dist-tags': Record<string, string>
  versions: Record<string, Record<string, unknown>>
  access: null
  _attachments: Record<string, { content_type: string; data: string; length: number }>
}

/** The body of npm's publish request for `pack`, with tarball URLs under `registry`. */
export function publishDocument(pack: PackResult, registry: string, tag = 'latest'): PublishDocument {
  const { name, version, description } = pack.packageJson
  const base = registry.endsWith('/') ? registry : `${registry}/`
  // libnpmpublish names the attachment `<name>-<version>.tgz`, scope included, and the URL after it.
  const attachment = `${name}-${version}.tgz`
  const manifest: Record<string, unknown> = { ...pack.packageJson, ...readmeOf(pack), _id: `${name}@${version}`, _nodeVersion: process.versions.node,
    dist: { integrity: pack.integrity, shasum: pack.shasum, tarball: new URL(`${name}/-/${attachment}`, base).href.replace(/^https:\/\//, 'http://') } }
  return {
    _id: name, name, ...(description === undefined ? {} : { description }),
    'dist-tags': { [tag]: version },
    versions: { [version]: manifest },
    access: null,
    _attachments: { [attachment]: { content_type: 'application/octet-stream', data: pack.tarball.toString('base64'), length: pack.tarball.length } },
  }
}

/** The README npm puts in the manifest. */
function readmeOf(pack: PackResult): Record<string, string> {
  return pack.readme ? { readme: pack.readme.text, readmeFilename: pack.readme.file } : {}
}

/** `PUT <registry>/<@scope%2fname>` with npm's document; resolves with the URL of the version's packument. */
export async function publishPackage(pack: PackResult, options: PublishOptions): Promise<{ url: string }> {
  const base = options.registry.endsWith('/') ? options.registry : `${options.registry}/`
  const name = pack.packageJson.name
  const url = new URL(name.replace('/', '%2f'), base).href
  const body = JSON.stringify(publishDocument(pack, base, options.tag))
  let response: Response
  try {
    response = await fetch(url, {
      method: 'PUT', body,
      headers: {
        'content-type': 'application/json', accept: '*/*', 'npm-command': 'publish',
        'user-agent': `islet node/${process.version} ${process.platform} ${process.arch}`,
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    throw new RegistryError('ERR_REGISTRY_PUBLISH_FAILED', `could not reach the registry at ${base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      { cause: error, details: { registry: base, hint: 'is the registry running (`islet registry serve`)? check --registry' } })
  }
  if (!response.ok) {
    const text = await response.text()
    let answer: { error?: string; code?: string; hint?: string } = {}
    try { answer = JSON.parse(text) as typeof answer } catch { answer = { error: text.slice(0, 500) } }
    const hint = answer.hint ?? (response.status === 401 ? 'log in (`npm login --registry …`) or pass --token' : response.status === 409 ? 'a version is immutable: bump "version" in package.json' : undefined)
    const said = answer.error ?? response.statusText
    // Islet's registry puts its hint in `error` already (npm shows only that): said once.
    throw new RegistryError('ERR_REGISTRY_PUBLISH_FAILED',
      `${name}@${pack.packageJson.version} refused by ${base}: ${response.status}${answer.code ? ` ${answer.code}` : ''} ${said}${hint && !said.includes(hint) ? ` (${hint})` : ''}`,
      { details: { status: response.status, registryCode: answer.code, registry: base } })
  }
  await response.body?.cancel()
  return { url }
}
