// Where in a component's own source a runtime error happened: the guest's stack frames (positions in the compiled
// script, as the worker reports them) mapped through the build's source map, which stays on the host.
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping'
import { PROLOGUE, type CompiledComponent } from './compile-build.ts'

export interface ComponentLocation {
  /** The component's own source file, relative to the app's folder (or, for `islet component test`, the cwd). */
  file: string
  line: number
  col: number
}

/** Maps frames `[line, col]` (1-based, top first) to the first one in the component's own files. */
export type Locator = (frames: unknown) => ComponentLocation | undefined

const OWN = 'component:'

/**
 * A locator for one compiled component; the map is decoded on the first error only. Frames in the sdk, or that map
 * to nothing, are skipped; a source that would resolve outside the component's folder is never reported.
 */
export function createLocator(compiled: Pick<CompiledComponent, 'map' | 'root'>, baseDir: string): Locator {
  let map: TraceMap | undefined
  return (frames) => {
    if (!Array.isArray(frames) || frames.length === 0 || compiled.map === '') return undefined
    try {
      map ??= new TraceMap(compiled.map)
    } catch {
      return undefined
    }
    for (const frame of frames.slice(0, 10) as unknown[]) {
      if (!Array.isArray(frame) || !Number.isInteger(frame[0]) || !Number.isInteger(frame[1])) continue
      const [line, col] = frame as [number, number]
      // The prologue is prepended to esbuild's first line without a newline: only that line's columns shift.
      const column = (line === 1 ? col - PROLOGUE.length : col) - 1
      if (line < 1 || column < 0) continue
      const at = originalPositionFor(map, { line, column })
      if (at.source === null || at.line === null || at.column === null || !at.source.startsWith(OWN)) continue
      const file = resolve(compiled.root, at.source.slice(OWN.length))
      const inRoot = relative(compiled.root, file)
      if (inRoot === '' || inRoot.startsWith(`..${sep}`) || inRoot === '..' || isAbsolute(inRoot)) continue
      return { file: shown(baseDir, compiled.root, file), line: at.line, col: at.column + 1 }
    }
    return undefined
  }
}

/** `file` relative to `baseDir`, with '/' separators; a component outside it is shown from its own folder's name. */
function shown(baseDir: string, root: string, file: string): string {
  let rel = relative(baseDir, file)
  if (rel.startsWith('..') || isAbsolute(rel)) rel = relative(resolve(root, '..'), file)
  return rel.split(sep).join('/')
}

/** The cap on a guest error's message (the bootstrap's); the location fits inside it. */
const MAX_MESSAGE = 2000

/** `message (file:line:col)`, the message shortened so the whole stays within the guest message cap. */
export function withLocation(message: string, at: ComponentLocation | undefined): string {
  if (!at) return message
  const suffix = ` (${at.file}:${at.line}:${at.col})`
  return `${message.slice(0, Math.max(0, MAX_MESSAGE - suffix.length))}${suffix}`
}
