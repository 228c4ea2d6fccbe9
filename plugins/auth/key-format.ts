// What an API key looks like: `isk_<id>_<secret>`. The id (hex) finds the stored row; the whole key's sha256 is what
// is stored and compared. The prefix lets auth.jwt leave API keys alone and secret scanners recognise leaked keys.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export const API_KEY_PREFIX = 'isk_'
/** 8 random bytes as hex: unique enough to name a key, and free of the `_` that separates the parts. */
const ID = /^[0-9a-f]{16}$/
/** 32 random bytes, base64url (43 characters): guessing is hopeless, so one unsalted sha256 is a sound hash. */
const KEY = /^isk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/

export interface NewKey {
  id: string
  /** The whole key, shown once. */
  key: string
  hash: string
}

export function newKey(): NewKey {
  const id = randomBytes(8).toString('hex')
  const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`
  return { id, key, hash: hashKey(key) }
}

/** The id of a well-formed key, else undefined. */
export function keyId(text: string): string | undefined {
  return KEY.exec(text)?.[1]
}

export function isKeyId(text: string): boolean {
  return ID.test(text)
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** Compares the hash of `key` with a stored hash in constant time: how long it takes says nothing about where they differ. */
export function keyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashKey(key), 'hex')
  const b = Buffer.from(storedHash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}
