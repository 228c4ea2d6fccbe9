// Registry users: a name (npm's username rules) and a scrypt password hash. Added by an administrator with
// `islet registry user add`; the registry has no self-service sign-up.
import type BetterSqlite3 from 'better-sqlite3'
import { RegistryError } from '../../errors.ts'
import { hashPassword } from './passwords.ts'
import { auditAuth, ensureAuthTables } from './schema.ts'

/** npm-user-validate's rules: lowercase, URL-safe, not starting with a dot or dash, at most 214 characters. */
const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,213}$/
export const MIN_PASSWORD_LENGTH = 8

export function createUser(db: BetterSqlite3.Database, name: string, password: string, options: { now?: () => Date } = {}): void {
  ensureAuthTables(db)
  if (!USER_NAME.test(name)) {
    throw new RegistryError('ERR_REGISTRY_USER_INVALID', `user name ${JSON.stringify(name)} is not valid: use lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (npm's username rules)`)
  }
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new RegistryError('ERR_REGISTRY_USER_INVALID', `the password for "${name}" is shorter than ${MIN_PASSWORD_LENGTH} characters`)
  }
  if (db.prepare('SELECT 1 FROM users WHERE name = ?').get(name)) {
    throw new RegistryError('ERR_REGISTRY_USER_INVALID', `user "${name}" already exists`)
  }
  const now = (options.now ?? (() => new Date()))()
  db.transaction(() => {
    db.prepare('INSERT INTO users (name, password_hash, created) VALUES (?, ?, ?)').run(name, hashPassword(password), now.toISOString())
    auditAuth(db, now, name, 'user.add', { user: name })
  })()
}

export function passwordHashOf(db: BetterSqlite3.Database, name: string): string | undefined {
  return (db.prepare('SELECT password_hash FROM users WHERE name = ?').get(name) as { password_hash: string } | undefined)?.password_hash
}

/** Package names the user owns (the first publisher owns a name); empty before the server-core's tables exist. */
export function ownedPackages(db: BetterSqlite3.Database, user: string): string[] {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'packages'").get()) return []
  return (db.prepare('SELECT name FROM packages WHERE owner = ? ORDER BY name').all(user) as { name: string }[]).map((row) => row.name)
}

export function ownerOf(db: BetterSqlite3.Database, pkg: string): string | undefined {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'packages'").get()) return undefined
  return (db.prepare('SELECT owner FROM packages WHERE name = ?').get(pkg) as { owner: string } | undefined)?.owner
}
