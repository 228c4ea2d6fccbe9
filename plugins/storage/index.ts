// The storage plugin: SQLite as Islet's embedded default store, declared through the public sdk only.
import { definePlugin } from '@islet/sdk'
import sqlite from './sqlite-module.ts'
import query from './sql-query.ts'
import exec from './sql-exec.ts'
import transaction from './sql-transaction.ts'

export type { SqliteConfig, SqliteModule } from './sqlite-module.ts'
export { sqlDatabase, type SqlDatabase } from './contract.ts'
export type { SqlStepConfig } from './sql-statement.ts'
export type { SqlQueryConfig } from './sql-query.ts'
export type { SqlExecConfig, SqlExecOutput } from './sql-exec.ts'
export type { SqlTransactionConfig } from './sql-transaction.ts'
export {
  STORAGE_ERROR_CODES, SQL_CALLER_ERROR_CODES, StorageError, isStorageError,
  type StorageErrorCode, type SqlCallerErrorCode,
} from './errors.ts'

export default definePlugin({
  name: 'storage',
  version: '0.1.0',
  description: 'Embedded SQLite (WAL, migrations) and the sql.query / sql.exec / sql.transaction steps.',
  islet: '^0.1.0',
  moduleTypes: [sqlite],
  stepTypes: [query, exec, transaction],
})
