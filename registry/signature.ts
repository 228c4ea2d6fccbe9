// Registry signatures in npm's format: ECDSA P-256 (SHA-256) over `<name>@<version>:<integrity>`, base64 DER, with the
// key id npm uses, `SHA256:` + unpadded base64 of the SHA-256 of the key's SPKI DER. Public keys are served at
// `/-/npm/v1/keys` in the shape `npm audit signatures` reads; the runtime verifies with the same function.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export interface SigningKey {
  keyid: string
  privateKey: KeyObject
  publicKey: KeyObject
}

/** One entry of `/-/npm/v1/keys`, as npm reads it. */
export interface NpmPublicKey {
  expires: string | null
  keyid: string
  keytype: 'ecdsa-sha2-nistp256'
  scheme: 'ecdsa-sha2-nistp256'
  /** Base64 of the SPKI DER. */
  key: string
}

/** One entry of a version's `dist.signatures`. */
export interface VersionSignature {
  keyid: string
  sig: string
}

export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { keyid: keyIdOf(publicKey), privateKey, publicKey }
}

/**
 * The key kept in `file` (PKCS#8 PEM), created on first use with mode 0600. Written to a temporary name and renamed,
 * so two processes starting together never read half a key.
 */
export function loadOrCreateSigningKey(file: string): SigningKey {
  if (existsSync(file)) {
    const privateKey = createPrivateKey(readFileSync(file))
    const publicKey = createPublicKey(privateKey)
    return { keyid: keyIdOf(publicKey), privateKey, publicKey }
  }
  const key = createSigningKey()
  mkdirSync(dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  chmodSync(temporary, 0o600)
  renameSync(temporary, file)
  return loadOrCreateSigningKey(file) // whoever renamed last won: use what is on disk
}

/** npm's key id: `SHA256:` and the unpadded base64 SHA-256 of the SPKI DER. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const der = typeof publicKey === 'string' ? Buffer.from(publicKey, 'base64') : publicKey.export({ type: 'spki', format: 'der' })
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`
}

/** What is signed for a version: exactly what npm's verifier rebuilds, `<name>@<version>:<integrity>`. */
export function signedMessage(name: string, version: string, integrity: string): string {
  return `${name}@${version}:${integrity}`
}

export function signVersion(key: SigningKey, name: string, version: string, integrity: string): VersionSignature {
  const sig = sign('sha256', Buffer.from(signedMessage(name, version, integrity)), key.privateKey).toString('base64')
  return { keyid: key.keyid, sig }
}

/** Whether `sig` (base64 DER) is `publicKey`'s (base64 SPKI DER) signature of the version. Never throws. */
export function verifyVersion(publicKey: string, name: string, version: string, integrity: string, sig: string): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' })
    return verify('sha256', Buffer.from(signedMessage(name, version, integrity)), key, Buffer.from(sig, 'base64'))
  } catch {
    return false
  }
}

export function publicKeyOf(key: SigningKey): NpmPublicKey {
  return { expires: null, keyid: key.keyid, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256',
    key: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64') }
}

/** The body of `GET /-/npm/v1/keys`. */
export function keysDocument(keys: readonly SigningKey[]): { keys: NpmPublicKey[] } {
  return { keys: keys.map(publicKeyOf) }
}
