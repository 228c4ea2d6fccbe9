// The `sql.database` contract: what storage.sqlite provides and sql.query / sql.exec reach through
// `ctx.module(config.db, sqlDatabase)`. Another module type offering a better-sqlite3 database (an attached replica, an
// encrypted file) provides it too, and the steps work with it unchanged.
import type Database from 'better-sqlite3'
import { defineContract } from '@islet/sdk'

export interface SqlDatabase {
  /** `db.prepare(sql)`: compiles one statement; prepare once, run many times. Throws ERR_STORAGE_NOT_OPEN before start. */
  prepare(sql: string): Database.Statement
  /** Absolute path of the database file, or `:memory:`. */
  readonly file: string
  readonly isReadonly: boolean
  readonly isOpen: boolean
  /** The better-sqlite3 connection, open between start and stop. */
  readonly db: Database.Database
}

export const sqlDatabase = defineContract<SqlDatabase>('sql.database',
  { prepare: 'function', file: 'string', isReadonly: 'boolean', isOpen: 'boolean', db: 'object' },
  'an open better-sqlite3 database: what sql.query and sql.exec run their statements on')
