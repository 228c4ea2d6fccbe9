// Rendered packuments, kept by ETag: the JSON bytes and, made once on the first request that accepts it, their gzip.
// Installs ask for the same few documents over and over, npm always sends `accept-encoding: gzip`, and the ETag
// already names everything a document depends on (revision, dist-tags, form, tarball base URL), so an entry never
// goes stale; a new revision is a new key. Bounded by count; the oldest entry goes first.
import { gzipSync } from 'node:zlib'

export interface Rendered {
  json: Buffer
  /** The gzip of `json`, or null when it is not smaller (a tiny document); undefined until first asked for. */
  gzip?: Buffer | null
}

export interface RenderedCache {
  get(etag: string, render: () => string): Rendered
  /** `entry`'s gzip, compressed on first use. */
  gzipOf(entry: Rendered): Buffer | null
}

export function renderedCache(limit = 500): RenderedCache {
  const entries = new Map<string, Rendered>()
  return {
    get(etag, render) {
      let entry = entries.get(etag)
      if (entry === undefined) {
        entry = { json: Buffer.from(render(), 'utf8') }
        if (entries.size >= limit) entries.delete(entries.keys().next().value as string)
        entries.set(etag, entry)
      }
      return entry
    },
    gzipOf(entry) {
      if (entry.gzip === undefined) {
        const gzip = gzipSync(entry.json, { level: 9 }) // once per revision: the best ratio is worth its few ms
        entry.gzip = gzip.length < entry.json.length ? gzip : null
      }
      return entry.gzip
    },
  }
}
