// A deterministic tar+gzip writer: the same files give the same bytes, whatever the clock, umask, owner or the order
// a directory lists in. That is what makes `islet plugin pack` reproducible (same inputs → same integrity), so a
// reviewer can rebuild a published version and compare digests. The archive is POSIX ustar, a pax header carrying a
// path too long for ustar's name/prefix fields, and nothing else: no directory entries (npm's tarballs have none),
// no links, no owners.
import { gzipSync } from 'node:zlib'

export interface TarEntry {
  /** Path inside the archive, `/`-separated, relative (`package/index.js`). */
  path: string
  data: Uint8Array
  /** Whether the file is executable: the one mode bit kept (0755, else 0644). */
  executable?: boolean
}

/** npm's fixed timestamp for every entry (1985-10-26T08:15:00Z): a packed file's mtime says nothing about it. */
export const TAR_MTIME = Date.UTC(1985, 9, 26, 8, 15, 0) / 1000

const BLOCK = 512

/** The gzip of a ustar archive of `entries`, sorted by path (byte order), each under its path as given. */
export function writeTarball(entries: readonly TarEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
  const parts: Buffer[] = []
  let previous: string | undefined
  for (const entry of sorted) {
    if (entry.path === previous) throw new Error(`tarball entry '${entry.path}' given twice`)
    previous = entry.path
    parts.push(...fileRecord(entry))
  }
  parts.push(Buffer.alloc(BLOCK * 2))   // end of archive: two zero blocks
  const gzip = gzipSync(Buffer.concat(parts), { level: 9, memLevel: 9, strategy: 0 })
  // The header's OS byte is zlib's build-time guess (3 on Unix, other values elsewhere): pin it so the bytes do not
  // depend on the platform that packed them. MTIME (bytes 4-7) is already 0 for a buffer.
  gzip[9] = 3
  return gzip
}

function fileRecord(entry: TarEntry): Buffer[] {
  const data = Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength)
  const out: Buffer[] = []
  const split = splitPath(entry.path)
  if (!split) {
    // Too long for ustar: a pax extended header (type 'x') carries the whole path; the ustar name is a stand-in.
    const record = paxRecord('path', entry.path)
    out.push(header({ name: `PaxHeader/${entry.path.slice(-80)}`.slice(0, 99), prefix: '', size: record.length, mode: 0o644, type: 'x' }))
    out.push(padded(record))
  }
  const { name, prefix } = split ?? { name: entry.path.slice(-99), prefix: '' }
  out.push(header({ name, prefix, size: data.length, mode: entry.executable ? 0o755 : 0o644, type: '0' }))
  out.push(padded(data))
  return out
}

/** ustar stores a path as name (≤100 bytes) and prefix (≤155 bytes) split at a `/`; undefined when it cannot. */
function splitPath(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' }
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i)
    const name = path.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix }
  }
  return undefined
}

/** `"<len> key=value\n"`, where len counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`
  const bodyLength = Buffer.byteLength(body)
  let length = bodyLength + 1
  while (length !== bodyLength + String(length).length) length = bodyLength + String(length).length
  return Buffer.from(`${length}${body}`)
}

function header(h: { name: string; prefix: string; size: number; mode: number; type: '0' | 'x' }): Buffer {
  const block = Buffer.alloc(BLOCK)
  block.write(h.name, 0, 100, 'utf8')
  octal(block, 100, 8, h.mode)
  octal(block, 108, 8, 0)             // uid
  octal(block, 116, 8, 0)             // gid
  octal(block, 124, 12, h.size)
  octal(block, 136, 12, TAR_MTIME)
  block.write(h.type, 156, 1, 'latin1')
  block.write('ustar\u000000', 257, 8, 'latin1')   // magic "ustar\0", version "00"
  // uname, gname (265, 297): left empty; devmajor/devminor: zero-filled octal as most tars write.
  octal(block, 329, 8, 0)
  octal(block, 337, 8, 0)
  block.write(h.prefix, 345, 155, 'utf8')
  // The checksum is computed with its own field as eight spaces, then written as six octal digits, NUL, space.
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1')
  return block
}

/** A zero-padded octal number filling `width - 1` digits, then NUL. */
function octal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'latin1')
}

function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)])
}
