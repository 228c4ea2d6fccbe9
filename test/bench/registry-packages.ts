// Plugin packages for the registry benchmarks, built in memory and published over HTTP in the exact document
// `npm publish` sends (see /work/wt/brief/npm-traffic.md §2), so Islet's registry and Verdaccio receive the same
// bytes. The tar writer is the smallest ustar that npm reads: regular files under `package/`, fixed mtime.
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'

function header(path: string, size: number): Buffer {
  const h = Buffer.alloc(512)
  h.write(path, 0, 100, 'utf8')
  h.write('0000644\0', 100)
  h.write('0000000\0', 108)
  h.write('0000000\0', 116)
  h.write(size.toString(8).padStart(11, '0') + '\0', 124)
  h.write('00000000000\0', 136) // mtime 0: same inputs, same bytes
  h.write('        ', 148) // checksum placeholder (spaces) while summing
  h.write('0', 156)
  h.write('ustar\0' + '00', 257)
  let sum = 0
  for (const byte of h) sum += byte
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  return h
}

/** A gzipped npm tarball of `files` (paths relative to the package root). */
export function packTarball(files: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = []
  for (const [path, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content)
    parts.push(header(`package/${path}`, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return gzipSync(Buffer.concat(parts), { level: 9 })
}

export interface BenchPackage {
  name: string
  version: string
  packageJson: Record<string, unknown>
  tarball: Buffer
  integrity: string
  shasum: string
}

/**
 * `@bench/geo` at `version`: an Islet plugin with one component (`bytes` of TypeScript source, so the tarball has the
 * size of a real plugin's) and a README.
 */
export function benchPackage(name: string, version: string, bytes = 16_384): BenchPackage {
  const packageJson = {
    name, version, description: 'Benchmark plugin', type: 'module', license: 'MIT', files: ['components'],
    peerDependencies: { '@islet/sdk': '*' }, peerDependenciesMeta: { '@islet/sdk': { optional: true } },
    islet: { engine: '>=0.1.0', components: { geocode: { file: 'components/geocode.ts', description: 'Geocodes', capabilities: { kv: true } } } },
  }
  const lines = [`// ${name}@${version}`, 'export default function geocode(input: { q: string }) {', '  const table: Record<string, number> = {']
  for (let i = 0; lines.join('\n').length < bytes; i++) lines.push(`    'place-${i}-${createHash('sha1').update(`${version}:${i}`).digest('hex').slice(0, 12)}': ${i},`)
  lines.push('  }', '  return { at: table[input.q] ?? null }', '}', '')
  const tarball = packTarball({
    'package.json': JSON.stringify(packageJson, null, 2) + '\n',
    'README.md': `# ${name}\n\nA plugin used by Islet's registry benchmark.\n`,
    'components/geocode.ts': lines.join('\n'),
  })
  return {
    name, version, packageJson, tarball,
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
    shasum: createHash('sha1').update(tarball).digest('hex'),
  }
}

/** The body of npm 11's `PUT /<name>` for `pkg` (npm-traffic.md §2). */
export function publishDocument(registryUrl: string, pkg: BenchPackage, tag = 'latest'): Record<string, unknown> {
  const basename = pkg.name.split('/').pop()
  return {
    _id: pkg.name, name: pkg.name, description: pkg.packageJson.description,
    'dist-tags': { [tag]: pkg.version },
    versions: { [pkg.version]: {
      ...pkg.packageJson, readme: `# ${pkg.name}\n`, readmeFilename: 'README.md', _id: `${pkg.name}@${pkg.version}`,
      _nodeVersion: process.versions.node, _npmVersion: '11.19.1',
      dist: { integrity: pkg.integrity, shasum: pkg.shasum, tarball: `${registryUrl}${pkg.name}/-/${basename}-${pkg.version}.tgz` },
    } },
    access: null,
    _attachments: { [`${pkg.name}-${pkg.version}.tgz`]: { content_type: 'application/octet-stream', data: pkg.tarball.toString('base64'), length: pkg.tarball.length } },
  }
}

/** Publishes `pkg` as npm does; throws with the registry's `error` on a non-2xx answer. */
export async function publish(registryUrl: string, token: string, pkg: BenchPackage, tag = 'latest'): Promise<void> {
  const response = await fetch(`${registryUrl}${pkg.name.replace('/', '%2f')}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'npm-command': 'publish' },
    body: JSON.stringify(publishDocument(registryUrl, pkg, tag)),
  })
  if (!response.ok) throw new Error(`publish ${pkg.name}@${pkg.version} to ${registryUrl}: ${response.status} ${await response.text()}`)
}
