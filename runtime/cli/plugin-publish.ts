// `islet plugin publish [dir]`: packs the folder (as `islet plugin pack`) and sends it with npm's own publish request,
// so any npm-protocol registry takes it and `npm publish` of the same folder is equivalent. The registry is
// --registry, else package.json's publishConfig.registry, else the npmrc's (`@scope:registry`, `registry`), as npm
// chooses; the token is --token, else $ISLET_REGISTRY_TOKEN, else the npmrc's `//host/:_authToken` for that registry.
// With none of them, it goes to the embedded registry of the data directory, the one apps use with no server.
import { resolve } from 'node:path'
import { dataDirOf } from '../config/data-dir.ts'
import { readNpmrc, registryFor, tokenFor } from '../../registry/npmrc.ts'
import { packFolder } from '../../registry/pack.ts'
import { publishPackage } from '../../registry/publish.ts'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'
import { describePack } from './plugin-pack.ts'

export default async function pluginPublish({ values, positionals }: ParsedOptions): Promise<number> {
  const dir = resolve(positionals[0] ?? '.')
  const pack = await packFolder(dir)
  const { name, version } = pack.packageJson
  if (pack.packageJson.private === true) {
    throw new IsletError('ERR_CLI_USAGE', `${name} is marked "private": true in package.json; remove that to publish it (npm refuses it too)`)
  }
  const npmrc = readNpmrc(dir)
  const publishConfig = pack.packageJson.publishConfig as { registry?: unknown; tag?: unknown } | undefined
  const registry = (values.registry as string | undefined) ?? (typeof publishConfig?.registry === 'string' ? publishConfig.registry : undefined) ?? registryFor(npmrc, name)
  const tag = (values.tag as string | undefined) ?? (typeof publishConfig?.tag === 'string' ? publishConfig.tag : 'latest')
  if (!registry) {
    const [{ publishEmbedded }, { checkComponents }] = await Promise.all([import('./registry-parts.ts'), import('./registry-check.ts')])
    if (values.format !== 'json') console.log(describePack(pack))
    const published = await publishEmbedded(dataDirOf(values['data-dir'] as string | undefined, process.env), pack.tarball, { tag, checkComponents })
    if (values.format === 'json') console.log(JSON.stringify({ name, version, tag, registry: 'embedded', dir: published.dir, integrity: pack.integrity, shasum: pack.shasum, files: pack.files }, null, 2))
    else console.log(`published ${name}@${version} to the embedded registry in ${published.dir} (tag ${tag}); apps using this data directory can add it: islet plugin add ${name}`)
    return 0
  }
  let url: URL
  try { url = new URL(registry) } catch { throw new IsletError('ERR_CLI_USAGE', `--registry '${registry}' is not a URL, e.g. http://127.0.0.1:4873/`) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new IsletError('ERR_CLI_USAGE', `--registry '${registry}' must be an http(s) URL`)
  const token = (values.token as string | undefined) ?? process.env.ISLET_REGISTRY_TOKEN ?? tokenFor(npmrc, url.href)
  if (values.format !== 'json') console.log(describePack(pack))
  await publishPackage(pack, { registry: url.href, ...(token ? { token } : {}), tag })
  if (values.format === 'json') console.log(JSON.stringify({ name, version, tag, registry: url.href, integrity: pack.integrity, shasum: pack.shasum, files: pack.files }, null, 2))
  else console.log(`published ${name}@${version} to ${url.href} (tag ${tag})`)
  return 0
}
