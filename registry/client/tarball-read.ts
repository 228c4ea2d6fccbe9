// A minimal, safe reader for npm tarballs (gzip + ustar/pax), standing in for registry/tarball/read.ts (the
// server-core helper's, same signature) until that one is merged: the lead swaps the import in materialize.ts.
// Refuses what the issue says extraction must refuse: absolute paths, `..`, links, devices, too many entries/bytes.
import { gunzipSync } from 'node:zlib'
import { RegistryError } from '../errors.ts'

export interface TarballLimits {
  maxEntries?: number
  /** Unpacked bytes, all files together. */
  maxBytes?: number
}

/** Files by package-relative path (npm's leading `package/` directory stripped), directories left implicit. */
export function readTarball(gz: Uint8Array, limits: TarballLimits = {}): { files: Map<string, Buffer> } {
  const maxEntries = limits.maxEntries ?? 10_000
  const maxBytes = limits.maxBytes ?? 256 * 1024 * 1024
  let tar: Buffer
  try {
    tar = gunzipSync(gz, { maxOutputLength: maxBytes + 1024 * 1024 })
  } catch (error) {
    const tooBig = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
    throw new RegistryError(tooBig ? 'ERR_REGISTRY_TARBALL_UNSAFE' : 'ERR_REGISTRY_TARBALL_CORRUPT',
      tooBig ? `the tarball unpacks to more than ${maxBytes} bytes` : `the tarball does not gunzip (${(error as Error).message})`)
  }
  const files = new Map<string, Buffer>()
  let entries = 0
  let total = 0
  let paxPath: string | undefined
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512)
    if (header.every((b) => b === 0)) break
    const field = (start: number, length: number) => {
      const raw = header.subarray(start, start + length)
      const end = raw.indexOf(0)
      return raw.subarray(0, end === -1 ? length : end).toString('utf8')
    }
    const size = parseInt(field(124, 12).trim() || '0', 8)
    const type = field(156, 1) || '0'
    const checksum = parseInt(field(148, 8).trim(), 8)
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!
    if (!Number.isFinite(size) || size < 0 || sum !== checksum) corrupt(`a header at byte ${offset} is not a tar header`)
    const body = tar.subarray(offset + 512, offset + 512 + size)
    if (body.length !== size) corrupt(`an entry at byte ${offset} is cut short`)
    offset += 512 + Math.ceil(size / 512) * 512
    if (type === 'x') { paxPath = paxValue(body, 'path'); continue }
    if (type === 'g') continue
    const prefix = field(345, 155)
    const path = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100))
    paxPath = undefined
    if (++entries > maxEntries) unsafe(`it holds more than ${maxEntries} entries`)
    if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\')) unsafe(`${JSON.stringify(path)} is an absolute path`)
    const parts = path.split('/').filter((p) => p !== '' && p !== '.')
    if (parts.includes('..')) unsafe(`${JSON.stringify(path)} climbs out with ..`)
    if (type === '5') continue
    if (type !== '0' && type !== '7') unsafe(`${JSON.stringify(path)} is a ${type === '1' || type === '2' ? 'link' : type === '3' || type === '4' || type === '6' ? 'device or fifo' : `entry of type ${type}`}`)
    total += size
    if (total > maxBytes) unsafe(`it unpacks to more than ${maxBytes} bytes`)
    // npm strips the first path component, whatever it is called (`package/` by convention).
    const relative = parts.slice(1).join('/')
    if (relative === '') continue
    if (files.has(relative)) unsafe(`${JSON.stringify(relative)} appears twice`)
    files.set(relative, Buffer.from(body))
  }
  return { files }
}

/**
 * The last `key` record of a pax header. Records are `<length> <key>=<value>\n` with the length counting the whole
 * record, so a value may hold a newline: splitting on newlines (instead of reading by length) would let a path like
 * `a\n20 path=b` mean one thing here and another to npm.
 */
function paxValue(body: Buffer, key: string): string | undefined {
  let value: string | undefined
  for (let at = 0; at < body.length;) {
    const space = body.indexOf(0x20, at)
    const length = space === -1 ? NaN : Number(body.subarray(at, space).toString('latin1'))
    if (!Number.isSafeInteger(length) || length <= space - at + 1 || at + length > body.length || body[at + length - 1] !== 0x0a) {
      if (body.subarray(at).every((b) => b === 0)) break
      corrupt('a pax header is malformed')
    }
    const record = body.subarray(space + 1, at + length - 1).toString('utf8')
    const equals = record.indexOf('=')
    if (equals > 0 && record.slice(0, equals) === key) value = record.slice(equals + 1)
    at += length
  }
  return value
}

function unsafe(what: string): never {
  throw new RegistryError('ERR_REGISTRY_TARBALL_UNSAFE', `the tarball is refused: ${what}`)
}

function corrupt(what: string): never {
  throw new RegistryError('ERR_REGISTRY_TARBALL_CORRUPT', `the tarball is not a tar archive: ${what}`)
}
