// `islet dev` on an app that does not load yet: wait for the next save in its folder, then try again. A broken YAML
// or plugin at startup is the same edit loop as a broken reload, so dev keeps watching instead of exiting.
import { sep } from 'node:path'
import { isWithin } from '../config/confine.ts'

/** What never holds the app's sources: dependencies, VCS data, and the data directory (written while running). */
const IGNORED = new Set(['node_modules', '.git'])

/**
 * Starts watching `folder` (outside `dataDir`) and resolves once the watcher is ready, with a promise of the first
 * file added, changed or removed after that (settled for `settleMs`): say "waiting" only once this resolved, or a save
 * made right after reading it could go unseen.
 */
export async function watchForChange(folder: string, dataDir: string, settleMs = 150): Promise<{ changed: Promise<void> }> {
  const { watch } = await import('chokidar')
  const watcher = watch(folder, {
    ignoreInitial: true,
    ignored: (path) => path.split(sep).some((part) => IGNORED.has(part)) || isWithin(dataDir, path),
  })
  const changed = new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    watcher.on('all', () => { clearTimeout(timer); timer = setTimeout(resolve, settleMs) })
    watcher.on('error', reject)
  }).finally(() => watcher.close())
  await new Promise<void>((resolve) => watcher.once('ready', resolve))
  return { changed }
}
