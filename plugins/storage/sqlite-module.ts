// The storage.sqlite module type: one SQLite database file, opened and migrated on start, closed on stop.
import type Database from 'better-sqlite3'
import { appPath, dataPath, defineModuleType, type ModuleContext, type ModuleInstance } from '@islet/sdk'
import { StorageError } from './errors.ts'
import { migrate } from './migrate.ts'
import { readMigrationFiles } from './migration-files.ts'
import { closeDatabase, openDatabase, resolveDatabaseFile } from './open-database.ts'
import { sqlDatabase, type SqlDatabase } from './contract.ts'

/** `storage.sqlite` config, validated and defaulted by the engine. */
export interface SqliteConfig {
  /** Database file: relative to the engine's data directory (an absolute one must lie inside it), or `:memory:`. */
  readonly file: string
  /** Folder of `NNN_description.sql` migrations, relative to the YAML file, inside the app folder. */
  readonly migrations?: string
  readonly busyTimeoutMs: number
  readonly readonly: boolean
  readonly synchronous: 'NORMAL' | 'FULL'
}

/**
 * What a storage.sqlite module offers other modules and steps: the `sql.database` contract
 * (`ctx.module(name, sqlDatabase)`). The database is open between `start()` and `stop()`; using it outside that
 * window throws ERR_STORAGE_NOT_OPEN. The connection: WAL, `foreign_keys = ON`, migrations applied.
 */
export interface SqliteModule extends ModuleInstance, SqlDatabase {}

export const sqliteConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: {
    // Paths the engine confines at load, symlinks resolved: the database to the data directory, migrations to the app.
    file: dataPath('database file, relative to the data directory (an absolute path must lie inside it); ' +
      '`:memory:` for a throwaway'),
    migrations: appPath('folder of NNN_description.sql files applied in number order on start, relative to this ' +
      'YAML; it must lie inside the app folder'),
    busyTimeoutMs: { type: 'integer', minimum: 0, default: 5000,
      description: 'how long a statement waits for another connection\'s write lock before failing' },
    readonly: { type: 'boolean', default: false,
      description: 'open an existing database for reading only; migrations are checked, never applied' },
    synchronous: { enum: ['NORMAL', 'FULL'], default: 'NORMAL',
      description: 'NORMAL never corrupts but a power cut may lose the last commits; FULL fsyncs every commit' },
  },
} as const

export default defineModuleType<SqliteConfig, SqliteModule>({
  type: 'storage.sqlite',
  description: 'An embedded SQLite database (WAL mode) with numbered SQL migrations applied on start.',
  configSchema: sqliteConfigSchema,
  provides: [sqlDatabase],
  create: createSqliteModule,
  // A migration added while the app runs restarts the module on the next config reload, which applies it.
  inputs: (config, ctx) => (config.migrations === undefined ? [] : [ctx.resolvePath(config.migrations)]),
})

/** Builds the instance; nothing touches the disk before `start()`. */
export function createSqliteModule(config: SqliteConfig, ctx: ModuleContext): SqliteModule {
  const file = resolveDatabaseFile(config.file, ctx.dataDir, ctx.name)
  const migrationsFolder = config.migrations === undefined ? undefined : ctx.resolvePath(config.migrations)
  let state: 'created' | 'open' | 'stopped' = 'created'
  let connection: Database.Database | undefined

  function requireOpen(): Database.Database {
    if (state === 'open' && connection) return connection
    const why = state === 'created' ? 'has not started yet' : 'has stopped'
    throw new StorageError('ERR_STORAGE_NOT_OPEN',
      `storage.sqlite '${ctx.name}' ${why}, so its database is not open: use it only from steps, or from a ` +
      `module that depends on '${ctx.name}' (it starts first)`, { details: { module: ctx.name, state } })
  }

  return {
    file,
    isReadonly: config.readonly,
    get isOpen() { return state === 'open' },
    get db() { return requireOpen() },
    prepare: (sql) => requireOpen().prepare(sql),

    start() {
      if (state === 'open') return
      // A stopped instance stays stopped: a reload creates a new one.
      if (state === 'stopped') requireOpen()
      const db = openDatabase(file, {
        isReadonly: config.readonly, busyTimeoutMs: config.busyTimeoutMs, synchronous: config.synchronous,
        module: ctx.name, logger: ctx.logger,
      })
      try {
        if (migrationsFolder !== undefined) {
          const files = readMigrationFiles(migrationsFolder, ctx.logger)
          const applied = migrate(db, files,
            { folder: migrationsFolder, logger: ctx.logger, isReadonly: config.readonly })
          ctx.logger.info({ applied: applied.length, known: files.length, folder: migrationsFolder },
            applied.length > 0 ? `${applied.length} migration(s) applied` : 'migrations up to date')
        }
      } catch (error) {
        // Release the file: the engine records the failure and may never call stop().
        closeDatabase(db, ctx.logger)
        throw error
      }
      connection = db
      state = 'open'
    },

    stop() {
      // Idempotent; and a module stopped before it ever started must not open later.
      const db = connection
      state = 'stopped'
      connection = undefined
      if (db) closeDatabase(db, ctx.logger)
    },
  }
}
