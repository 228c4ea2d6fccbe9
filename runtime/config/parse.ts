// Strict YAML reading: size cap, core schema only, duplicate keys, tags and alias bombs rejected, every node locatable.
import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import {
  isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument,
  type Document, type Node, type Scalar, type YAMLError,
} from 'yaml'
import type { ErrorCode } from '../errors.ts'
import type { Diagnostic, SourceLocation } from './diagnostics.ts'

/** One parsed file, kept whole so any path inside it maps back to file:line:col. */
export interface ParsedFile {
  /** Absolute path. */
  readonly file: string
  readonly text: string
  readonly doc: Document.Parsed
  readonly lineCounter: LineCounter
}

/** The 1-based line and column of a character offset of the file. */
export function positionOf(parsed: ParsedFile, offset: number): SourceLocation {
  const { line, col } = parsed.lineCounter.linePos(offset)
  return { file: parsed.file, line, col }
}

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024
/** Nodes that aliases may add when expanded; far above any honest config, far below a billion laughs. */
export const DEFAULT_MAX_ALIAS_NODES = 10_000

/** Why a file could not be read; the caller locates it (at the import entry, or the file itself for the root). */
export interface ReadFailure {
  code: ErrorCode
  message: string
  hint?: string
}

/**
 * Reads a config file, refusing one larger than `maxFileBytes` (checked before reading, and never read past) and
 * anything but a regular file: a FIFO would block the loader, a device never end (both stat as 0 bytes).
 */
export async function readYamlFile(file: string, maxFileBytes = DEFAULT_MAX_FILE_BYTES):
  Promise<{ text: string } | { failure: ReadFailure }> {
  let handle: FileHandle | undefined
  try {
    // Non-blocking, so opening a FIFO returns at once; the checks below are then on what was opened, not a name.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
    const info = await handle.stat()
    if (!info.isFile()) {
      return { failure: { code: 'ERR_CONFIG_FILE_NOT_FOUND',
        message: `${file} ${info.isDirectory() ? 'is a directory' : 'is not a regular file'}`,
        hint: 'a config file is a regular YAML file; check the path' } }
    }
    if (info.size > maxFileBytes) return { failure: tooLarge(file, info.size, maxFileBytes) }
    const buffer = Buffer.alloc(maxFileBytes + 1)
    let length = 0
    for (let n = -1; n !== 0 && length < buffer.length; length += n) {
      n = (await handle.read(buffer, length, buffer.length - length, length)).bytesRead
    }
    // It grew between stat and read.
    if (length > maxFileBytes) return { failure: tooLarge(file, length, maxFileBytes) }
    return { text: buffer.toString('utf8', 0, length) }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`
    return { failure: { code: 'ERR_CONFIG_FILE_NOT_FOUND', message: `${file} ${why}`,
      hint: 'check the path; imports are resolved relative to the importing file' } }
  } finally {
    await handle?.close()
  }
}

function tooLarge(file: string, size: number, maxFileBytes: number): ReadFailure {
  return { code: 'ERR_CONFIG_TOO_LARGE', message: `${file} is ${size}${size > maxFileBytes + 1 ? '' : '+'} bytes, over the ` +
    `${maxFileBytes}-byte cap for a config file`, hint: 'split it into several files with imports:, or raise maxFileBytes' }
}

/** Tags of the YAML 1.2 core schema; anything else (`!!binary`, `!!js/function`, `!foo`) is refused. */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`))

/** Parses one YAML document strictly. On any YAML-level problem `parsed` is absent: later checks would mislead. */
export function parseYaml(file: string, text: string, maxAliasNodes = DEFAULT_MAX_ALIAS_NODES):
  { parsed?: ParsedFile; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { schema: 'core', version: '1.2', uniqueKeys: true, lineCounter, merge: false })
  const parsed: ParsedFile = { file, text, doc, lineCounter }
  // Warnings count as errors: those yaml emits for a document are unresolved tags and directives. After the first
  // syntax error the parser is only guessing, so the syntax errors that follow it are dropped as noise.
  const syntax = doc.errors.findIndex((e) => !STANDALONE_CODES.has(e.code))
  const errors = doc.errors.filter((e, i) => STANDALONE_CODES.has(e.code) || i === syntax)
  const found = [...errors, ...doc.warnings].map((e) => fromYamlError(parsed, e))
  if (doc.errors.length === 0) found.push(...checkNodes(parsed, maxAliasNodes))
  // yaml warns about some foreign tags and checkNodes finds all of them: keep one report per place.
  const byPlace = new Map(found.map((d) => [`${d.line}:${d.col}:${d.code}`, d]))
  const diagnostics = [...byPlace.values()]
  return diagnostics.length ? { diagnostics } : { parsed, diagnostics }
}

/** The plain value of a parsed (and interpolated) file. */
export function toValue(parsed: ParsedFile): unknown {
  // Aliases were already bounded by checkNodes; this is yaml's own guard kept as a second line of defence.
  return parsed.doc.toJS({ maxAliasCount: DEFAULT_MAX_ALIAS_NODES })
}

function fromYamlError(parsed: ParsedFile, e: YAMLError): Diagnostic {
  const at = positionOf(parsed, e.pos[0])
  const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
  switch (e.code) {
    case 'DUPLICATE_KEY': {
      const dup = duplicateOf(parsed, e.pos[0])
      return { ...at, severity: 'error', code: 'ERR_CONFIG_DUPLICATE_KEY', path: '',
        message: dup ? `duplicate key '${dup.key}', first defined at line ${dup.first.line}` : 'duplicate key',
        hint: 'a mapping cannot hold a key twice: remove one, or merge them' }
    }
    case 'TAG_RESOLVE_FAILED':
      return { ...at, severity: 'error', code: 'ERR_CONFIG_TAG', path: '', message: tagMessage(message),
        hint: 'config files use the YAML 1.2 core schema: custom and language-specific tags are not allowed' }
    case 'MULTIPLE_DOCS':
      return { ...at, severity: 'error', code: 'ERR_CONFIG_YAML_SYNTAX', path: '',
        message: 'a config file holds exactly one YAML document, this one has several',
        hint: "remove the '---' separator, or move the second document to its own file and list it in imports:" }
    default: {
      // Plain scalars cannot hold '{' or '}' inside [ ] or { }: `{ port: ${PORT} }` is the classic way to hit this.
      const line = parsed.text.split('\n')[at.line - 1] ?? ''
      const isFlowReference = /[[{,][^'"]*\$\{/.test(line)
      return { ...at, severity: 'error', code: 'ERR_CONFIG_YAML_SYNTAX', path: '', message: message.replace(/\.$/, ''),
        ...(isFlowReference ? { hint: FLOW_REFERENCE_HINT } : {}) }
    }
  }
}

const FLOW_REFERENCE_HINT = 'inside [ ] or { } a value holding ${…} or ${{ … }} must be quoted, which keeps it a string; ' +
  'for a number or boolean from ${…}, write that mapping in block style, one key per line'

/** yaml error codes that stand on their own (not a parser's guess after a syntax error). */
const STANDALONE_CODES = new Set(['DUPLICATE_KEY', 'TAG_RESOLVE_FAILED', 'MULTIPLE_DOCS'])

function tagMessage(message: string): string {
  return message.replace(/^Unresolved tag: (.*)$/, (_, tag: string) => {
    const short = tag.replace(/^tag:yaml\.org,2002:/, '!!')
    // A core tag is only unresolved when it does not fit the node, e.g. `!!str` on a mapping.
    return CORE_TAGS.has(tag) ? `tag '${short}' does not fit this value` : `tag '${short}' is not allowed`
  })
}

/** The key repeated at `offset`, and where it first appears in the same mapping. */
function duplicateOf(parsed: ParsedFile, offset: number): { key: string; first: SourceLocation } | undefined {
  const search = (node: unknown): { key: string; first: SourceLocation } | undefined => {
    if (isSeq(node)) return node.items.map(search).find(Boolean)
    if (!isMap(node)) return undefined
    const dup = node.items.find((p) => isScalar(p.key) && p.key.range?.[0] === offset)
    const first = dup && node.items.find((p) => isScalar(p.key) && p.key.value === (dup.key as Scalar).value)
    if (dup && first) return { key: String((dup.key as Scalar).value), first: positionOf(parsed, (first.key as Scalar).range![0]) }
    return node.items.map((p) => search(p.value)).find(Boolean)
  }
  return search(parsed.doc.contents)
}

/**
 * Refuses tags outside the core schema (yaml silently resolves some 1.1 ones like !!binary) and bounds what aliases
 * expand to. Each node's expanded size is computed once, in document order, so a billion-laughs document fails in
 * linear time, before anything is expanded.
 */
function checkNodes(parsed: ParsedFile, maxAliasNodes: number): Diagnostic[] {
  const out: Diagnostic[] = []
  const anchors = new Map<string, Node>()
  const sizes = new Map<Node, number>()
  let added = 0
  let isAborted = false
  const fail = (node: Node, code: ErrorCode, message: string, hint: string) => {
    isAborted = true
    out.push({ ...positionOf(parsed, node.range?.[0] ?? 0), severity: 'error', code, path: '', message, hint })
  }

  // Returns the node's size once every alias inside it is expanded. Document order matters: an alias refers to the
  // latest anchor of its name defined before it, and that anchor's size is final unless the alias sits inside it.
  const walk = (node: unknown): number => {
    if (isAborted) return 1
    if (isAlias(node)) {
      const target = anchors.get(node.source)
      if (!target) {
        fail(node, 'ERR_CONFIG_YAML_SYNTAX', `alias *${node.source} has no anchor before it`,
          `define &${node.source} on a node above this one`)
        return 1
      }
      const n = sizes.get(target) ?? Infinity
      added += n
      if (added > maxAliasNodes) {
        fail(node, 'ERR_CONFIG_ALIAS_LIMIT', n === Infinity
          ? `alias *${node.source} refers to a node that contains it`
          : `aliases expand to more than ${maxAliasNodes} nodes (a resource-exhaustion guard)`,
          'use fewer anchors and aliases, or repeat the values you need')
      }
      return n
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) return 1
    if (node.tag && !CORE_TAGS.has(node.tag)) {
      // The node's range starts after its tag; point at the tag itself when it is written in the short form.
      const short = node.tag.replace(/^tag:yaml\.org,2002:/, '!!')
      const tagAt = parsed.text.lastIndexOf(short, node.range?.[0] ?? 0)
      out.push({ ...positionOf(parsed, tagAt >= 0 ? tagAt : node.range?.[0] ?? 0), severity: 'error', code: 'ERR_CONFIG_TAG',
        path: '', message: tagMessage(`Unresolved tag: ${node.tag}`),
        hint: 'config files use the YAML 1.2 core schema: custom and language-specific tags are not allowed' })
    }
    if (node.anchor) anchors.set(node.anchor, node)
    let n = 1
    if (!isScalar(node)) {
      for (const item of node.items) n += isPair(item) ? walk(item.key) + walk(item.value) : walk(item)
    }
    sizes.set(node, n)
    return n
  }
  walk(parsed.doc.contents)
  return out
}
