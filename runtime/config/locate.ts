// Maps a path inside a parsed file (e.g. `modules.2.config.port`) back to file:line:col.
import { isAlias, isMap, isPair, isScalar, isSeq, type Node, type Scalar } from 'yaml'
import type { DiagnosticCode, Diagnostic, SourceLocation } from './diagnostics.ts'
import { positionOf, type ParsedFile } from './parse.ts'

export type PathSegment = string | number

/**
 * The node at `path` (aliases followed), or the deepest existing ancestor when the path goes beyond the document
 * (a missing key, a default filled in later); `pair` is the pair holding the last mapping step, for key positions.
 */
export function nodeAt(parsed: ParsedFile, path: readonly PathSegment[]):
  { node: unknown; pair?: unknown; exact: boolean } {
  let node: unknown = parsed.doc.contents
  let pair: unknown
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(parsed.doc)
    let next: unknown
    if (isMap(node)) {
      pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment))
      next = isPair(pair) ? pair.value : undefined
    } else if (isSeq(node)) {
      next = node.items[Number(segment)]
      pair = undefined
    }
    if (next === undefined || next === null) return { node, exact: false }
    node = next
  }
  if (isAlias(node)) node = node.resolve(parsed.doc)
  return { node, pair, exact: true }
}

/**
 * Where `path` stands in the file: the value node, or with `key` the key node (for "unknown key" errors); when the
 * path does not exist, the nearest mapping or sequence that does.
 */
export function locate(parsed: ParsedFile, path: readonly PathSegment[], opts: { key?: boolean } = {}): SourceLocation {
  const { node, pair, exact } = nodeAt(parsed, path)
  const target = exact && opts.key && isPair(pair) ? pair.key : node
  return positionOf(parsed, (target as Node | null)?.range?.[0] ?? 0)
}

/**
 * Where character `offset` of the string `text` at `path` stands. Exact when the scalar's source spells `text`
 * literally (plain or quoted without escapes, one line, or a literal block); otherwise the scalar's start.
 */
export function locateOffset(parsed: ParsedFile, path: readonly PathSegment[], text: string, offset: number): SourceLocation {
  const { node, exact } = nodeAt(parsed, path)
  if (!exact || !isScalar(node) || !node.range) return locate(parsed, path)
  return positionOf(parsed, offsetIn(parsed.text, node, text, offset))
}

/** Source offset of `offset` within scalar `node` whose value is `text`. */
export function offsetIn(source: string, node: Scalar, text: string, offset: number): number {
  const start = node.range![0]
  const quote = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0
  if (!text.includes('\n') && source.startsWith(text, start + quote)) return start + quote + offset
  if (node.type === 'BLOCK_LITERAL') {
    // A literal block keeps its lines verbatim after the header line, each behind the block's indentation.
    const lineNo = text.slice(0, offset).split('\n').length - 1
    const valueLine = text.split('\n')[lineNo]!
    const col = offset - text.lastIndexOf('\n', offset - 1) - 1
    let at = source.indexOf('\n', start) + 1
    for (let i = 0; i < lineNo && at > 0; i++) at = source.indexOf('\n', at) + 1
    const end = source.indexOf('\n', at)
    const sourceLine = source.slice(at, end < 0 ? undefined : end)
    if (at > 0 && sourceLine.endsWith(valueLine)) return at + sourceLine.length - valueLine.length + col
  }
  return start
}

/** A diagnostic at `path` of a parsed file. */
export function diagnosticAt(parsed: ParsedFile, path: readonly PathSegment[], code: DiagnosticCode, message: string,
  hint?: string, opts: { key?: boolean } = {}): Diagnostic {
  return { ...locate(parsed, path, opts), severity: 'error', code, path: path.join('.'), message,
    ...(hint ? { hint } : {}) }
}
