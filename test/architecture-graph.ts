// The import graph of our own sources, read from the .ts files (static `import … from`, `import type`, `export … from`,
// side-effect `import '…'`): what test/architecture.test.ts checks, and what `npm run graph` prints — the folders of
// runtime/ and which folders each imports.
//   npm run graph                             the folder graph of runtime/ (node test/architecture-graph.ts)
//   npm run graph -- --files                  every file-level edge inside runtime/
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** A source file's imports: its own files (repository-relative paths) and the packages it names. */
export interface FileImports {
  file: string
  files: string[]
  packages: string[]
}

/**
 * Every static import specifier of a module. Statements start a line (so prose in comments, which starts with `//` or
 * `*`, is never read as one); `[^;]*?` spans a multi-line import list and stops at the statement's end.
 */
const STATEMENT = /^\s*(?:import|export)\b(?:[^;'"`]*?\bfrom\s*)?\s*['"]([^'"]+)['"]/gm

export function specifiers(source: string): string[] {
  return [...source.matchAll(STATEMENT)].map((m) => m[1]!)
}

/** `.ts` files under `dir` (repository-relative), tests and declaration files left out unless asked. */
export function sourcesUnder(dir: string, options: { tests?: boolean } = {}): string[] {
  const out: string[] = []
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
      const path = join(abs, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')
        && (options.tests || !entry.name.endsWith('.test.ts'))) out.push(relative(ROOT, path))
    }
  }
  walk(join(ROOT, dir))
  return out.sort()
}

/** What `file` imports: relative specifiers and `#sdk` resolved to files, anything else named as a package. */
export function importsOf(file: string): FileImports {
  const files: string[] = []
  const packages: string[] = []
  for (const spec of specifiers(readFileSync(join(ROOT, file), 'utf8'))) {
    if (spec.startsWith('.')) files.push(relative(ROOT, resolve(ROOT, dirname(file), spec)))
    else if (spec === '#sdk') files.push('sdk/index.ts')
    else packages.push(spec)
  }
  return { file, files, packages }
}

/**
 * The node of runtime/ a file belongs to: its top folder (`engine`, `sandbox` for sandbox/capabilities/…), or the
 * file itself for the few at runtime/'s top (`errors.ts`, `app.ts`). Undefined outside runtime/.
 */
export function folderOf(file: string): string | undefined {
  const parts = file.split('/')
  return parts[0] === 'runtime' ? parts[1] : undefined
}

export type Graph = Map<string, Set<string>>

/** File → files it imports, for the sources under runtime/ (edges leaving runtime/ left out). */
export function fileGraph(): Graph {
  const graph: Graph = new Map()
  for (const file of sourcesUnder('runtime')) {
    graph.set(file, new Set(importsOf(file).files.filter((f) => f.startsWith('runtime/'))))
  }
  return graph
}

/** Folder → folders of runtime/ it imports (itself left out). */
export function folderGraph(files: Graph = fileGraph()): Graph {
  const graph: Graph = new Map()
  for (const [file, targets] of files) {
    const from = folderOf(file)!
    const edges = graph.get(from) ?? new Set<string>()
    graph.set(from, edges)
    for (const target of targets) {
      const to = folderOf(target)!
      if (to !== from) edges.add(to)
    }
  }
  return graph
}

/** Strongly connected components with more than one node, or a node importing itself: each is a cycle. */
export function cycles(graph: Graph): string[][] {
  // Tarjan's algorithm, iterative enough for a few hundred files.
  let index = 0
  const indexes = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (node: string) => {
    indexes.set(node, index)
    low.set(node, index++)
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!indexes.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indexes.get(next)!))
      }
    }
    if (low.get(node) === indexes.get(node)) {
      const scc: string[] = []
      let top: string
      do {
        top = stack.pop()!
        onStack.delete(top)
        scc.push(top)
      } while (top !== node)
      if (scc.length > 1 || graph.get(node)?.has(node)) found.push(scc.sort())
    }
  }
  for (const node of [...graph.keys()].sort()) if (!indexes.has(node)) visit(node)
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!))
}

/** One shortest path from `from` back to itself through `graph`, to show a cycle as a chain. */
export function chain(graph: Graph, from: string, within: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>()
  const queue = [from]
  while (queue.length) {
    const node = queue.shift()!
    for (const next of graph.get(node) ?? []) {
      if (!within.has(next)) continue
      if (next === from) {
        const path = [node]
        while (path[0] !== from) path.unshift(previous.get(path[0]!)!)
        return [...path, from]
      }
      if (!previous.has(next)) {
        previous.set(next, node)
        queue.push(next)
      }
    }
  }
  return [from]
}

function print(graph: Graph): void {
  const width = Math.max(...[...graph.keys()].map((k) => k.length))
  for (const [node, edges] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${node.padEnd(width)} → ${[...edges].sort().join(', ') || '(nothing)'}`)
  }
  const found = cycles(graph)
  console.log(found.length
    ? `\ncycles:\n${found.map((c) => `  ${c.join(', ')}: e.g. ${chain(graph, c[0]!, new Set(c)).join(' → ')}`).join('\n')}`
    : '\nno cycles')
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  print(process.argv.includes('--files') ? fileGraph() : folderGraph())
}
