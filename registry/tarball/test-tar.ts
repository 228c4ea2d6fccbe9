// Test support only: a tiny tar writer that can also build the hostile archives the reader must refuse (links,
// devices, `..`, absolute paths, pax overrides). The real, deterministic packer is registry/tarball/write.ts.
import { gzipSync } from 'node:zlib'

export interface TestEntry {
  name: string
  body?: string | Buffer
  /** tar type flag: '0' file (default), '5' folder, '1' hard link, '2' symlink, '3'/'4' devices, '6' fifo. */
  type?: string
  linkname?: string
  /** pax records written in an 'x' header before this entry (e.g. { path: '…' }). */
  pax?: Record<string, string>
}

function header(name: string, size: number, type: string, linkname = ''): Buffer {
  const block = Buffer.alloc(512)
  block.write(name.slice(0, 100), 0, 'utf8')
  block.write('0000644\0', 100, 'latin1')
  block.write('0000000\0', 108, 'latin1')
  block.write('0000000\0', 116, 'latin1')
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1')
  block.write('14111221750\0', 136, 'latin1')
  block.write('        ', 148, 'latin1')
  block.write(type, 156, 'latin1')
  block.write(linkname, 157, 'utf8')
  block.write('ustar\0', 257, 'latin1')
  block.write('00', 263, 'latin1')
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
  return block
}

function padded(data: Buffer): Buffer {
  const rest = data.length % 512
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)])
}

function paxRecords(records: Record<string, string>): Buffer {
  const lines = Object.entries(records).map(([key, value]) => {
    const body = ` ${key}=${value}\n`
    let length = Buffer.byteLength(body) + 1
    while (String(length).length + Buffer.byteLength(body) !== length) length += 1
    return `${length}${body}`
  })
  return Buffer.from(lines.join(''), 'utf8')
}

export function tar(entries: readonly TestEntry[]): Buffer {
  const parts: Buffer[] = []
  for (const entry of entries) {
    if (entry.pax) {
      const records = paxRecords(entry.pax)
      parts.push(header('PaxHeader', records.length, 'x'), padded(records))
    }
    const body = typeof entry.body === 'string' ? Buffer.from(entry.body) : entry.body ?? Buffer.alloc(0)
    parts.push(header(entry.name, body.length, entry.type ?? '0', entry.linkname), padded(body))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

export function tgz(entries: readonly TestEntry[]): Buffer {
  return gzipSync(tar(entries), { level: 9 })
}

/** A package tarball (`package/` prefix) from package-relative files. */
export function packageTgz(files: Record<string, string | Buffer>): Buffer {
  return tgz(Object.entries(files).map(([name, body]) => ({ name: `package/${name}`, body })))
}
