// Component entry files on disk: what a `directory:` holds, and the name a file or folder gives its component.
import { readdir, realpath, stat } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'

/** What a path is, following symlinks; undefined when it does not exist or cannot be read. */
export async function kindOf(path: string): Promise<'file' | 'directory' | 'other' | undefined> {
  try {
    const s = await stat(path)
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other'
  } catch {
    return undefined
  }
}

/** The same file however it is reached (`./a.ts`, `sub/../a.ts`, a symlink): explicit entries match found ones by it. */
export function identityOf(file: string): Promise<string> {
  return realpath(file).catch(() => file)
}

/** `price-quote.ts` → `price-quote`; `quote/index.ts` → `quote`: the folder names a component that has its own. */
export function nameFromFile(file: string): string {
  const base = basename(file)
  if (base === 'index.ts') return basename(dirname(file))
  return base.slice(0, base.length - extname(base).length)
}

/** A valid name close to `name`, for hints: `Price Quote` → `price-quote`; undefined when nothing usable is left. */
export function suggestName(name: string): string | undefined {
  const fixed = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+|-+$/g, '')
  return fixed || undefined
}

/**
 * The component entry files directly in `dir`, sorted so the order does not depend on the file system: each `*.ts`
 * (not `*.test.ts`, not `*.d.ts`) and each subfolder's `index.ts`. Dot-files and dot-folders (editor and VCS
 * litter) are skipped; other files are the components' helpers and data, not components.
 */
export async function componentsIn(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const found: string[] = []
  for (const name of names) {
    const path = join(dir, name)
    const kind = await kindOf(path)
    if (kind === 'file' && isEntryFile(name)) found.push(path)
    else if (kind === 'directory' && await kindOf(join(path, 'index.ts')) === 'file') found.push(join(path, 'index.ts'))
  }
  return found
}

function isEntryFile(name: string): boolean {
  return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')
}
