// Reads a package tarball (gzip + tar) into memory, refusing anything that could escape or exhaust the reader: an
// absolute path, a `..` segment, a link, a device or fifo, a duplicated path, more entries or more unpacked bytes
// than the limits. Our own ustar + pax parser, so the rules are all here and nothing is ever written to disk.
// It is the one reader: the server runs it at publish and the client before extracting, so it also refuses layouts
// that would extract differently on another file system (a file that is also a folder, names equal up to case,
// control characters, backslashes): such a package never publishes, rather than failing at someone's install.
import { gunzipSync } from 'node:zlib'
import { RegistryError } from '../errors.ts'

export interface TarballLimits {
  /** Most entries (files and folders) a tarball may hold; default 2000. */
  maxEntries?: number
  /** Most bytes its files may unpack to, together; default 64 MiB. */
  maxBytes?: number
}

export interface Tarball {
  /** File contents by package-relative path (`package.json`, `components/geocode.ts`): the leading `package/` removed. */
  files: Map<string, Buffer>
}

export const DEFAULT_TARBALL_LIMITS = { maxEntries: 2000, maxBytes: 64 * 1024 * 1024 } as const

const BLOCK = 512

export function readTarball(gz: Uint8Array, limits: TarballLimits = {}): Tarball {
  const maxEntries = limits.maxEntries ?? DEFAULT_TARBALL_LIMITS.maxEntries
  const maxBytes = limits.maxBytes ?? DEFAULT_TARBALL_LIMITS.maxBytes
  const tar = gunzip(gz, maxEntries, maxBytes)
  const files = new Map<string, Buffer>()
  let entries = 0
  let bytes = 0
  let offset = 0
  let pax: Record<string, string> = {}
  let globalPax: Record<string, string> = {}
  let gnuLongName: string | undefined
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK)
    if (header.every((b) => b === 0)) break // end of archive
    checkChecksum(header, offset)
    const type = String.fromCharCode(header[156] ?? 0)
    const size = Number(pax.size ?? globalPax.size ?? parseNumber(header.subarray(124, 136), offset))
    const dataStart = offset + BLOCK
    const dataEnd = dataStart + size
    if (!Number.isSafeInteger(size) || size < 0 || dataEnd > tar.length) {
      throw corrupt(`the tar entry at byte ${offset} declares ${size} bytes, past the end of the archive`)
    }
    const data = tar.subarray(dataStart, dataEnd)
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK
    // Meta entries describe the next entry; they are not entries themselves.
    if (type === 'x') { pax = parsePax(data, offset); continue }
    if (type === 'g') { globalPax = { ...globalPax, ...parsePax(data, offset) }; continue }
    if (type === 'L') { gnuLongName = cString(data); continue }
    // A global `path` is never an entry's name: npm's tar ignores it too, and honouring it would give every later
    // entry the same name here and its own name at install.
    const name = pax.path ?? gnuLongName ?? headerName(header)
    pax = {}
    gnuLongName = undefined
    entries += 1
    if (entries > maxEntries) throw unsafe(name, `the tarball holds more than ${maxEntries} entries`)
    const path = packagePath(name)
    // Folders carry nothing (their files' paths are checked); old tars mark one with a trailing slash on a file entry.
    if (type === '5' || ((type === '0' || type === '\0') && name.endsWith('/') && size === 0)) continue
    if (type !== '0' && type !== '\0' && type !== '7') throw unsafe(name, `it is ${KIND[type] ?? `an entry of unknown type '${type}'`}; packages may hold only regular files and folders`)
    if (path === '') throw unsafe(name, 'a file stands where the package folder should be')
    bytes += size
    if (bytes > maxBytes) throw unsafe(name, `the files unpack to more than ${maxBytes} bytes`)
    if (files.has(path)) throw unsafe(name, 'the path appears twice, so what the package holds would depend on the extractor')
    files.set(path, Buffer.from(data))
  }
  const problem = layoutProblem([...files.keys()])
  if (problem) throw unsafe(`package/${problem.path}`, problem.why)
  return { files }
}

const KIND: Record<string, string> = {
  '1': 'a hard link', '2': 'a symbolic link', '3': 'a character device', '4': 'a block device', '6': 'a fifo',
  'K': 'a link (GNU long link name)',
}

function gunzip(gz: Uint8Array, maxEntries: number, maxBytes: number): Buffer {
  // A gzip bomb is stopped while inflating: the archive may hold the files plus a header and padding per entry and
  // pax records (generously two blocks each, and two for the end marker).
  const maxOutputLength = maxBytes + (maxEntries + 2) * 4 * BLOCK
  try {
    return gunzipSync(gz, { maxOutputLength })
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new RegistryError('ERR_REGISTRY_TARBALL_UNSAFE', `the tarball inflates to more than ${maxOutputLength} bytes (limit ${maxBytes} bytes of files); pack fewer or smaller files`, { details: { limit: maxBytes } })
    }
    throw corrupt(`the tarball does not gunzip (${(error as Error).message}); pack it again with \`npm pack\` or \`islet plugin pack\``)
  }
}

/** The package-relative path of a tar entry name, or a refusal naming it. */
function packagePath(name: string): string {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafe(name, 'the path is absolute')
  // A control character (a NUL, a newline that a line-based reader would take for a new pax record) names no file
  // the same way everywhere; a backslash is a folder separator on Windows and a plain character elsewhere.
  if (/[\u0000-\u001f\u007f]/.test(name)) throw unsafe(name, 'the path holds a control character')
  if (name.includes('\\')) throw unsafe(name, 'the path holds a backslash, a folder separator on Windows only; use /')
  const segments = name.split('/').filter((s) => s !== '' && s !== '.')
  if (segments.includes('..')) throw unsafe(name, "the path climbs out with '..'")
  if (segments[0] !== 'package') throw unsafe(name, "the entry is outside the tarball's package/ folder")
  return segments.slice(1).join('/')
}

function headerName(header: Buffer): string {
  const name = cString(header.subarray(0, 100))
  const magic = header.subarray(257, 263).toString('latin1')
  // ustar keeps long paths as prefix/name; the old GNU format used those bytes for other things.
  const prefix = magic === 'ustar\0' ? cString(header.subarray(345, 500)) : ''
  return prefix ? `${prefix}/${name}` : name
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0)
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8')
}

/** Octal ASCII (NUL or space terminated), or GNU base-256 when the high bit of the first byte is set. */
function parseNumber(field: Buffer, offset: number): number {
  if ((field[0] ?? 0) & 0x80) {
    let value = (field[0] ?? 0) & 0x7f
    for (const byte of field.subarray(1)) value = value * 256 + byte
    return value
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw corrupt(`the tar header at byte ${offset} has a malformed number field '${text}'`)
  return parseInt(text, 8)
}

function checkChecksum(header: Buffer, offset: number): void {
  const recorded = parseNumber(header.subarray(148, 156), offset)
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i] ?? 0
  if (sum !== recorded) throw corrupt(`the tar header at byte ${offset} fails its checksum: this is not a tar archive or it is damaged`)
}

/**
 * pax records: `<length> <key>=<value>\n`, the length counting the whole record, read by that length (a value may
 * hold a newline: splitting on newlines would let `a\n20 path=b` mean one thing here and another to npm). A key given
 * twice keeps its last value, as npm's tar does.
 */
function parsePax(data: Buffer, offset: number): Record<string, string> {
  const records: Record<string, string> = {}
  let at = 0
  while (at < data.length) {
    const space = data.indexOf(0x20, at)
    const length = space === -1 ? NaN : Number(data.subarray(at, space).toString('latin1'))
    if (!Number.isSafeInteger(length) || length <= space - at + 1 || at + length > data.length || data[at + length - 1] !== 0x0a) {
      if (data.subarray(at).every((b) => b === 0)) break
      throw corrupt(`a pax header before byte ${offset} is malformed`)
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8')
    const equals = record.indexOf('=')
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1)
    at += length
  }
  return records
}

/**
 * The first path that could not be extracted to one unambiguous folder: a path that is both a file and a folder, or
 * two paths (files or folders) equal once case and Unicode normalization are folded, as macOS and Windows do.
 */
function layoutProblem(paths: readonly string[]): { path: string; why: string } | undefined {
  const fold = (path: string) => path.normalize('NFC').toLowerCase()
  const folders = new Map<string, string>() // folded → as written
  for (const path of paths) {
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/')
      const known = folders.get(fold(folder))
      if (known === undefined) folders.set(fold(folder), folder)
      else if (known !== folder) return { path, why: `the folders '${known}' and '${folder}' differ only in case` }
    }
  }
  const seen = new Map<string, string>()
  for (const path of paths) {
    const folder = folders.get(fold(path))
    if (folder !== undefined) return { path, why: `'${path}' is both a file and a folder${folder === path ? '' : ` ('${folder}')`}` }
    const known = seen.get(fold(path))
    if (known !== undefined) return { path, why: `'${known}' and '${path}' differ only in case` }
    seen.set(fold(path), path)
  }
  return undefined
}

function unsafe(entry: string, why: string): RegistryError {
  return new RegistryError('ERR_REGISTRY_TARBALL_UNSAFE', `tarball entry '${entry}' refused: ${why}`, { details: { entry } })
}

function corrupt(message: string): RegistryError {
  return new RegistryError('ERR_REGISTRY_TARBALL_CORRUPT', message)
}
