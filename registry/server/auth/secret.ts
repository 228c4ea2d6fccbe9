// The HMAC key tokens are signed with (HS256): 32 random bytes kept in the registry folder, mode 0600, created on
// first use. Tokens also have to match a row in `tokens`, so the key is defence in depth, not the only check.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { RegistryError } from '../../errors.ts'

/** Where a registry keeps its token key: `<dir of registry.db>/keys/token-secret`. */
export function tokenSecretFileOf(db: BetterSqlite3.Database): string {
  if (db.memory || !db.name) {
    throw new RegistryError('ERR_REGISTRY_AUTH_CONFIG', 'an in-memory registry database has no folder for the token key: pass `secret` (or `secretFile`) explicitly')
  }
  return join(dirname(db.name), 'keys', 'token-secret')
}

export function loadOrCreateTokenSecret(file: string): Uint8Array {
  if (existsSync(file)) {
    const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
    if (secret.length < 32) throw new RegistryError('ERR_REGISTRY_AUTH_CONFIG', `the token key in ${file} is shorter than 32 bytes: delete it to create a new one (every token issued so far stops working)`)
    return new Uint8Array(secret)
  }
  mkdirSync(dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, randomBytes(32).toString('base64') + '\n', { mode: 0o600 })
  chmodSync(temporary, 0o600)
  renameSync(temporary, file)
  return loadOrCreateTokenSecret(file) // whoever renamed last won: use what is on disk
}

export interface SecretOptions {
  /** The key itself (at least 32 bytes). */
  secret?: Uint8Array | string
  /** Where the key is kept; default `<dir of registry.db>/keys/token-secret`. */
  secretFile?: string
}

export function resolveSecret(db: BetterSqlite3.Database, options: SecretOptions): Uint8Array {
  if (options.secret !== undefined) {
    const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret
    if (secret.length < 32) throw new RegistryError('ERR_REGISTRY_AUTH_CONFIG', 'the token secret must be at least 32 bytes')
    return secret
  }
  return loadOrCreateTokenSecret(options.secretFile ?? tokenSecretFileOf(db))
}
