// Test support: a small ustar writer, so tests build the exact tarballs they need (an added file, a link, a path
// with ..) without depending on the packer under test.
import { gzipSync } from 'node:zlib'

export interface TarEntry {
  path: string
  /** File contents; omitted for links and directories. */
  body?: string | Buffer
  /** ustar type flag: '0' file (default), '2' symlink, '5' directory, 'x' pax header for the next entry. */
  type?: '0' | '1' | '2' | '3' | '5' | 'x'
  linkTo?: string
}

/** A gzipped tar of `files` under `package/` (npm's layout), in the given order, or of raw `entries`. */
export function tarGz(files: Record<string, string | Buffer> | TarEntry[]): Buffer {
  const entries: TarEntry[] = Array.isArray(files) ? files : Object.entries(files).map(([path, body]) => ({ path: `package/${path}`, body }))
  const blocks: Buffer[] = []
  for (const entry of entries) {
    const body = entry.body === undefined ? Buffer.alloc(0) : Buffer.from(entry.body)
    const header = Buffer.alloc(512)
    header.write(entry.path, 0, 100, 'utf8')
    header.write('0000644\0', 100, 'ascii')
    header.write('0000000\0', 108, 'ascii')
    header.write('0000000\0', 116, 'ascii')
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii')
    header.write('00000000000\0', 136, 'ascii') // mtime 0: same bytes every time
    header.write(entry.type ?? '0', 156, 'ascii')
    if (entry.linkTo) header.write(entry.linkTo, 157, 100, 'utf8')
    header.write('ustar\0', 257, 'ascii')
    header.write('00', 263, 'ascii')
    header.fill(32, 148, 156)
    let sum = 0
    for (const byte of header) sum += byte
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return gzipSync(Buffer.concat(blocks))
}
