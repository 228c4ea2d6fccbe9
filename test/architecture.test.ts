// The one direction of dependencies (ARCHITECTURE.md): sdk ← plugins ← runtime, and inside runtime/ no folder and no
// file imports, even for a type, something that imports it back. `npm run graph` prints the folder graph.
import { describe, expect, it } from 'vitest'
import { chain, cycles, fileGraph, folderGraph, folderOf, importsOf, sourcesUnder, specifiers, type Graph } from './architecture-graph.ts'

/**
 * Edges allowed to close a cycle while one is being taken apart: none today. An entry that no longer exists fails
 * the test, so the set cannot go stale.
 */
const KNOWN = new Set<string>([])

const files = fileGraph()

/** The graph without the KNOWN edges. */
function withoutKnown(graph: Graph): Graph {
  return new Map([...graph].map(([file, targets]) => [file, new Set([...targets].filter((t) => !KNOWN.has(`${file} → ${t}`)))]))
}

/** Each cycle as its members and one loop through them. */
const shown = (graph: Graph, found: string[][]) =>
  found.map((scc) => `${scc.join(', ')}: e.g. ${chain(graph, scc[0]!, new Set(scc)).join(' → ')}`)

describe('import graph', () => {
  it('reads every form of static import, type-only ones included, and no prose', () => {
    const source = [
      "import { a } from './a.ts'",
      "import type { B } from '../b.ts'",
      'import {',
      '  c,',
      '  type D,',
      "} from './c.ts'",
      "export { e } from './e.ts'",
      "export type * from './f.ts'",
      "import './side-effect.ts'",
      "import * as g from 'pkg'",
      "// an example: import { x } from './comment.ts'",
      " * import { y } from './doc-comment.ts'",
      "const z = 'import { z } from \"./string.ts\"'",
    ].join('\n')
    expect(specifiers(source)).toEqual(['./a.ts', '../b.ts', './c.ts', './e.ts', './f.ts', './side-effect.ts', 'pkg'])
  })

  it('the KNOWN exceptions all still exist (remove the ones that went away)', () => {
    const edges = new Set([...files].flatMap(([file, targets]) => [...targets].map((t) => `${file} → ${t}`)))
    expect([...KNOWN].filter((edge) => !edges.has(edge))).toEqual([])
  })

  it("runtime's folders depend one way: no cycle between them", () => {
    const folders = folderGraph(withoutKnown(files))
    expect(folders.size).toBeGreaterThan(8)
    expect(shown(folders, cycles(folders))).toEqual([])
  })

  it('no file of runtime/ imports, even for a type, a file that imports it back', () => {
    const graph = withoutKnown(files)
    expect(shown(graph, cycles(graph))).toEqual([])
  })

  it('every runtime file resolves to a file that exists in the graph (the parser misses nothing)', () => {
    const known = new Set(sourcesUnder('runtime'))
    const missing = [...files].flatMap(([file, targets]) => [...targets].filter((t) => !known.has(t)).map((t) => `${file} → ${t}`))
    expect(missing).toEqual([])
    expect(folderOf('runtime/sandbox/capabilities/kv.ts')).toBe('sandbox')
  })
})

describe('package boundaries', () => {
  it('sdk/ imports nothing outside sdk/: no package, no Node API, none of our files', () => {
    const outside = sourcesUnder('sdk', { tests: true }).map(importsOf)
      .flatMap(({ file, files: targets, packages }) => [...targets.filter((t) => !t.startsWith('sdk/')), ...packages].map((t) => `${file} → ${t}`))
    expect(outside).toEqual([])
  })

  it('plugins/ import nothing from runtime/ (the sdk, each other and npm packages only)', () => {
    const reaching = sourcesUnder('plugins', { tests: true }).map(importsOf)
      .flatMap(({ file, files: targets }) => targets.filter((t) => !t.startsWith('plugins/') && !t.startsWith('sdk/')).map((t) => `${file} → ${t}`))
    expect(reaching).toEqual([])
  })

  it('registry/ (when present) imports only the sdk', () => {
    let sources: string[] = []
    try {
      sources = sourcesUnder('registry', { tests: true })
    } catch {
      return // not written yet
    }
    const reaching = sources.map(importsOf)
      .flatMap(({ file, files: targets }) => targets.filter((t) => !t.startsWith('registry/') && !t.startsWith('sdk/')).map((t) => `${file} → ${t}`))
    expect(reaching).toEqual([])
  })
})
