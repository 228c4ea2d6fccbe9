// Re-locks the flagship example (examples/orders) on its plugin @islet-examples/shipping after a change to
// examples/plugins/shipping: packs the plugin folder (deterministic: same files, same bytes), signs the version in
// npm's format with a fresh key whose private half is never written anywhere, replaces the tarball in
// examples/orders/islet-vendor/ and pins version, integrity, signature and the public key in examples/orders/islet.lock.
//
//   node test/support/relock-example.ts
//
// Commit the lock and the vendored tarball together; test/examples.test.ts checks that the tarball is exactly
// packFolder(examples/plugins/shipping) and that the lock's signature verifies. (With a registry, the same is
// `islet plugin publish` to an embedded registry in a temp data dir, `islet plugin add`, then `islet plugin vendor`.)
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tarballFileName, VENDOR_DIR, type Lockfile } from '../../registry/client/index.ts'
import { writeLock } from '../../registry/client/lock.ts'
import { packFolder } from '../../registry/pack.ts'
import { createSigningKey, publicKeyOf, signVersion } from '../../registry/signature.ts'

const ROOT = join(import.meta.dirname, '..', '..')
export const EXAMPLE_APP = join(ROOT, 'examples', 'orders')
export const EXAMPLE_PLUGIN = join(ROOT, 'examples', 'plugins', 'shipping')

export async function relockExample(): Promise<Lockfile> {
  const packed = await packFolder(EXAMPLE_PLUGIN)
  const { name, version } = packed.packageJson
  const key = createSigningKey()
  const { keyid, sig } = signVersion(key, name, version, packed.integrity)
  const vendor = join(EXAMPLE_APP, VENDOR_DIR)
  mkdirSync(vendor, { recursive: true })
  for (const file of readdirSync(vendor)) if (file.endsWith('.tgz')) rmSync(join(vendor, file))
  writeFileSync(join(vendor, tarballFileName(packed.integrity)), packed.tarball)
  const lock: Lockfile = {
    lockfileVersion: 1,
    keys: { [keyid]: { key: publicKeyOf(key).key, registry: 'embedded' } },
    plugins: { [name]: { version, integrity: packed.integrity, keyid, sig, registry: 'embedded', engine: packed.packageJson.islet.engine } },
  }
  writeLock(join(EXAMPLE_APP, 'islet.lock'), lock)
  return lock
}

if (import.meta.main) {
  const lock = await relockExample()
  for (const [name, entry] of Object.entries(lock.plugins)) console.log(`locked ${name}@${entry.version} ${entry.integrity} (key ${entry.keyid})`)
}
