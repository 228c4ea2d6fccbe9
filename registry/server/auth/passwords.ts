// Passwords are kept as scrypt hashes with a per-user salt; comparing is constant-time.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'

const N = 16384
const R = 8
const P = 1
const KEY_LENGTH = 32

export function hashPassword(password: string): string {
  const salt = randomBytes(16)
  const key = scryptSync(password, salt, KEY_LENGTH, { N, r: R, p: P })
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`
}

/** A hash that no password matches, so an unknown user costs as much as a wrong password (no user enumeration by timing). */
const DECOY = hashPassword(randomBytes(16).toString('hex'))

export async function checkPassword(password: string, stored: string | undefined): Promise<boolean> {
  const [kind, n, r, p, salt, key] = (stored ?? DECOY).split('$')
  if (kind !== 'scrypt' || !salt || !key) return false
  const expected = Buffer.from(key, 'base64')
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) }, (error, derived) =>
      error ? reject(error) : resolve(derived)))
  return stored !== undefined && timingSafeEqual(actual, expected)
}
