// The digests npm records for a tarball: `dist.integrity` (Subresource Integrity, sha512) and `dist.shasum` (sha1 hex).
import { createHash } from 'node:crypto'

/** `sha512-<base64>`, npm's form. */
export function integrityOf(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`
}

/** The legacy sha1 hex digest npm still sends and checks. */
export function shasumOf(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex')
}

/** A file-name-safe form of an integrity string, for content-addressed storage: `sha512-<hex>`. */
export function integrityFileName(integrity: string): string {
  const [algorithm, base64] = integrity.split('-', 2)
  return `${algorithm}-${Buffer.from(base64 ?? '', 'base64').toString('hex')}`
}
