// Test support: registry plugins as a publisher ships them: a package folder packed into a deterministic tarball
// (registry/pack.ts, as `islet plugin pack`), signed in npm's format with a test key (registry/signature.ts), the
// tarball put where the client looks first (the app's islet-vendor/, or the data dir's cache) and pinned in the
// app's islet.lock with the key. The runtime then loads it through the real client: integrity, signature, safe
// extraction and the folder check, as for any download. `publishPlugin` instead publishes it to the embedded
// registry of a data dir, for tests of resolution.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { cacheDir, tarballFileName, VENDOR_DIR, type Lockfile, type LockedPlugin } from '../../registry/client/index.ts'
import { packFolder } from '../../registry/pack.ts'
import { openEmbeddedRegistry } from '../../registry/server/embedded.ts'
import { createSigningKey, publicKeyOf, signVersion, type SigningKey } from '../../registry/signature.ts'
import { LOCK_FILE, readLock, writeLock } from '../../runtime/plugins/locked-plugins.ts'

export interface PluginFixture {
  name: string
  version: string
  islet: Record<string, unknown>
  /** Package-relative path → text. */
  files?: Record<string, string>
}

/** The key the fixtures sign with (a registry's key, as far as the lock is concerned). */
export const TEST_KEY: SigningKey = createSigningKey()

export interface PackedPlugin {
  tarball: Buffer
  entry: LockedPlugin
  /** Where the tarball was put. */
  file: string
}

export interface LockOptions {
  /** Where the tarball goes: the app's islet-vendor/ (default) or the data dir's tarball cache. */
  into?: 'vendor' | 'cache'
  /** Sign with this key instead of TEST_KEY (the lock pins whichever signed). */
  key?: SigningKey
  /** Pin this key in the lock instead of the signer's (a key the lock does not know signed it). */
  pinned?: SigningKey
  /** Put these bytes where the tarball goes instead (the lock still pins the packed tarball's integrity). */
  tamper?: (tarball: Buffer) => Buffer
  /** The version's deprecation or yank, as the lock records it. */
  standing?: Pick<LockedPlugin, 'deprecated' | 'yanked'>
}

/** The package folder of `plugin` written to a temp folder and packed, as `islet plugin pack` would. */
export async function packPlugin(plugin: PluginFixture): Promise<{ tarball: Buffer; integrity: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'islet-plugin-'))
  try {
    const files = plugin.files ?? {}
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: plugin.name, version: plugin.version, type: 'module', islet: plugin.islet }, null, 2))
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    const packed = await packFolder(dir)
    return { tarball: packed.tarball, integrity: packed.integrity }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Packs and signs the plugin, puts its tarball in the app's islet-vendor/ (or the cache) and pins it in islet.lock (other entries kept). */
export async function lockPlugin(appDir: string, dataDir: string, plugin: PluginFixture, options: LockOptions = {}): Promise<PackedPlugin> {
  const { tarball, integrity } = await packPlugin(plugin)
  const signer = options.key ?? TEST_KEY
  const pinned = options.pinned ?? signer
  const { keyid, sig } = signVersion(signer, plugin.name, plugin.version, integrity)
  const folder = options.into === 'cache' ? cacheDir(dataDir) : join(appDir, VENDOR_DIR)
  const file = join(folder, tarballFileName(integrity))
  mkdirSync(folder, { recursive: true })
  writeFileSync(file, options.tamper ? options.tamper(Buffer.from(tarball)) : tarball)

  const lock: Lockfile = readLock(appDir) ?? { lockfileVersion: 1, keys: {}, plugins: {} }
  const deps = plugin.islet.plugins as Record<string, string> | undefined
  const entry: LockedPlugin = { version: plugin.version, integrity, keyid, sig, registry: 'embedded', engine: String(plugin.islet.engine),
    ...(deps ? { plugins: deps } : {}), ...options.standing }
  lock.plugins[plugin.name] = entry
  lock.keys[pinned.keyid] = { key: publicKeyOf(pinned).key, registry: 'embedded' }
  writeLock(appDir, lock)
  return { tarball, entry, file }
}

export function readLockFile(appDir: string): Lockfile {
  return JSON.parse(readFileSync(join(appDir, LOCK_FILE), 'utf8')) as Lockfile
}

/** Packs the plugin and publishes it to the embedded registry of `dataDir`, which then offers it to resolution. */
export async function publishPlugin(dataDir: string, plugin: PluginFixture): Promise<void> {
  const { tarball } = await packPlugin(plugin)
  const registry = openEmbeddedRegistry(join(dataDir, 'registry'))
  try {
    await registry.publish(tarball, { actor: 'test' })
  } finally {
    registry.close()
  }
}

/** Runs `change` on the embedded registry of `dataDir` (deprecate, yank: what a publisher does after an app locked). */
export function withEmbeddedRegistry(dataDir: string, change: (registry: ReturnType<typeof openEmbeddedRegistry>) => void): void {
  const registry = openEmbeddedRegistry(join(dataDir, 'registry'))
  try {
    change(registry)
  } finally {
    registry.close()
  }
}
