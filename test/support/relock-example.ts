// Re-locks the flagship example (examples/orders) on its plugin @islet-examples/shipping after a change to
// examples/plugins/shipping, the way a user locks any plugin: `islet plugin publish` into the embedded registry of a
// temporary data dir (which signs it with a key of its own), `islet plugin upgrade` to pin version, integrity,
// signature and that key in examples/orders/islet.lock, `islet plugin vendor` to put the verified tarball in
// examples/orders/islet-vendor/.
// The temporary data dir, with the registry's private key, is deleted: only the public key stays, in the lock.
//
//   node test/support/relock-example.ts
//
// Commit the lock and the vendored tarball together; test/examples.test.ts checks that the tarball is exactly
// packFolder(examples/plugins/shipping) and that the lock's signature verifies.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')
const APP = join(ROOT, 'examples', 'orders', 'app.yaml')
const PLUGIN = join(ROOT, 'examples', 'plugins', 'shipping')
const BIN = join(ROOT, 'runtime', 'cli', 'bin.js')

const dataDir = mkdtempSync(join(tmpdir(), 'islet-relock-'))
try {
  const name = (JSON.parse(readFileSync(join(PLUGIN, 'package.json'), 'utf8')) as { name: string }).name
  for (const command of [['plugin', 'publish', PLUGIN], ['plugin', 'upgrade', name, APP], ['plugin', 'vendor', APP]]) {
    const run = spawnSync(process.execPath, [BIN, ...command, '--data-dir', dataDir], { stdio: 'inherit' })
    if (run.status !== 0) throw new Error(`islet ${command.join(' ')} exited with ${run.status}`)
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
