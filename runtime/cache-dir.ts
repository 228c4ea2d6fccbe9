// Where Islet keeps what it can compute again: this package's node_modules/.cache/islet, beside Node's compile
// cache (runtime/cli/bin.js). Every entry in it is named by a hash of everything it was made from, so a change is a
// miss, never a stale hit; the folder can be deleted at any time, and a read-only install simply runs without it.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package's root folder. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CACHE_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'islet')
