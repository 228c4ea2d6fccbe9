// Reads a migrations folder: validates file names, numbers and checksums, returns the migrations in numeric order.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from '@islet/sdk'
import { StorageError, messageOf } from './errors.ts'

/** One migration file, read and normalised. */
export interface MigrationFile {
  /** The numeric prefix: `001_orders.sql` → 1. Orders the migrations and keys the ledger. */
  readonly version: number
  /** The file name, e.g. `001_orders.sql`. */
  readonly name: string
  /** Absolute path, for messages. */
  readonly path: string
  /** The SQL, with a byte-order mark removed and CRLF line ends turned into LF. */
  readonly sql: string
  /** sha256 (hex) of `sql`: what proves an applied migration was not edited since. */
  readonly checksum: string
}

const MIGRATION_NAME = /^(\d+)_(.+)\.sql$/i
const LOOKS_NUMBERED = /^\d+_/

/** Reads `dir` and returns its `NNN_description.sql` migrations sorted by number. */
export function readMigrationFiles(dir: string, logger: Logger): MigrationFile[] {
  const entries = listFolder(dir)
  const byVersion = new Map<number, MigrationFile>()
  for (const entry of entries) {
    if (!isFileEntry(dir, entry)) continue
    const isSql = entry.name.toLowerCase().endsWith('.sql')
    if (!isSql) {
      // README.md or .gitkeep are fine to keep beside migrations; `002_x.sql.bak` is probably a mistake.
      if (LOOKS_NUMBERED.test(entry.name)) {
        logger.warn({ file: entry.name, folder: dir }, 'ignored: looks like a migration but does not end in .sql')
      }
      continue
    }
    const match = MIGRATION_NAME.exec(entry.name)
    const version = match ? Number(match[1]) : NaN
    if (!match || !Number.isSafeInteger(version)) {
      throw new StorageError('ERR_STORAGE_MIGRATION_NAME',
        `migration file '${entry.name}' in ${dir} is not named NNN_description.sql ` +
        `(e.g. 001_create_orders.sql): rename it so its number says when it runs`,
        { details: { file: entry.name, folder: dir } })
    }
    const twin = byVersion.get(version)
    if (twin) {
      throw new StorageError('ERR_STORAGE_MIGRATION_NAME',
        `migrations '${twin.name}' and '${entry.name}' in ${dir} both have number ${version}: ` +
        `renumber one of them (a migration already applied keeps its number)`,
        { details: { files: [twin.name, entry.name], version, folder: dir } })
    }
    byVersion.set(version, readMigration(path.join(dir, entry.name), entry.name, version))
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version)
}

function listFolder(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const problem = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : messageOf(error)
    throw new StorageError('ERR_STORAGE_MIGRATIONS_NOT_FOUND',
      `migrations folder ${dir} ${problem}; a relative \`migrations:\` path resolves against the YAML file ` +
      `that declares the module: create the folder or fix the path`,
      { details: { folder: dir }, cause: error })
  }
}

function isFileEntry(dir: string, entry: fs.Dirent): boolean {
  if (entry.isFile()) return true
  // A symlinked migration is still a migration; the config loader has checked it stays in the app folder.
  return entry.isSymbolicLink() && fs.statSync(path.join(dir, entry.name), { throwIfNoEntry: false })?.isFile() === true
}

function readMigration(file: string, name: string, version: number): MigrationFile {
  // A checkout with Windows line ends, or an editor adding a BOM, must not count as editing an applied migration.
  const sql = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').replace(/\r\n/g, '\n')
  return { version, name, path: file, sql, checksum: checksumOf(sql) }
}

/** sha256 hex of a migration's normalised SQL. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex')
}
