// Migrations on real SQLite files: order, once-only, edits refused, failures rolled back, names, folder errors.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isStorageError, type StorageErrorCode } from './errors.ts'
import { checksumOf } from './migration-files.ts'
import { findTransactionControl } from './transaction-control.ts'
import { moduleContext, recordingLogger, startSqlite, tempDirs } from './test-context.ts'
import type { SqliteModule } from './sqlite-module.ts'

const dirs = tempDirs()
const started: SqliteModule[] = []
afterEach(() => {
  for (const module of started.splice(0)) module.stop?.()
  dirs.cleanup()
})

/** A data dir and a YAML dir holding `migrations/` with `files`; `start()` starts a fresh module on app.db. */
function setup(files: Record<string, string>) {
  const dataDir = dirs.make()
  const yamlDir = dirs.make()
  const folder = path.join(yamlDir, 'migrations')
  fs.mkdirSync(folder)
  const write = (more: Record<string, string>) => {
    for (const [name, sql] of Object.entries(more)) fs.writeFileSync(path.join(folder, name), sql)
  }
  write(files)
  const start = async (options: { logger?: ReturnType<typeof recordingLogger>['logger']; readonly?: boolean } = {}) => {
    const module = await startSqlite({ file: 'app.db', migrations: 'migrations', readonly: options.readonly ?? false },
      moduleContext({ dataDir, yamlDir, logger: options.logger }))
    started.push(module)
    return module
  }
  const restart = async () => {
    for (const module of started) module.stop?.()
    return start()
  }
  return { folder, write, start, restart, file: path.join(dataDir, 'app.db') }
}

async function startError(start: () => Promise<unknown>, code: StorageErrorCode): Promise<Error> {
  const error = await start().then(() => undefined, (e: unknown) => e)
  expect(isStorageError(error, code), `expected ${code}, got ${String(error)}`).toBe(true)
  return error as Error
}

const tables = (db: SqliteModule) =>
  (db.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>)
    .map((row) => row.name)
const ledger = (db: SqliteModule) =>
  db.db.prepare('SELECT version, name, checksum FROM _islet_migrations ORDER BY version').all()

describe('migrations: applying', () => {
  it('applies by number, not by name (10 after 2), records each with its checksum, and logs each', async () => {
    const files = {
      '10_seed.sql': "INSERT INTO orders (sku, note) VALUES ('a', 'seeded');",
      '2_note.sql': 'ALTER TABLE orders ADD COLUMN note TEXT;',
      '1_orders.sql': 'CREATE TABLE orders (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE);',
    }
    const { start } = setup(files)
    const { logger, lines } = recordingLogger()
    const db = await start({ logger })
    expect(db.db.prepare('SELECT sku, note FROM orders').all()).toEqual([{ sku: 'a', note: 'seeded' }])
    expect(ledger(db)).toEqual([
      { version: 1, name: '1_orders.sql', checksum: checksumOf(files['1_orders.sql']) },
      { version: 2, name: '2_note.sql', checksum: checksumOf(files['2_note.sql']) },
      { version: 10, name: '10_seed.sql', checksum: checksumOf(files['10_seed.sql']) },
    ])
    expect(lines.filter((line) => line.msg === 'migration applied').map((line) => line.migration))
      .toEqual(['1_orders.sql', '2_note.sql', '10_seed.sql'])
  })

  it('skips applied migrations on restart and applies only new ones', async () => {
    const { start, restart, write } = setup({
      '001_orders.sql': "CREATE TABLE orders (sku TEXT); INSERT INTO orders VALUES ('first');",
    })
    await start()
    // Re-running 001 would fail on CREATE TABLE, or insert 'first' twice.
    write({ '002_more.sql': "INSERT INTO orders VALUES ('second');" })
    const db = await restart()
    expect(db.db.prepare('SELECT sku FROM orders ORDER BY rowid').all()).toEqual([{ sku: 'first' }, { sku: 'second' }])
    expect((await restart()).db.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 2 })
  })

  it('applies trigger bodies (BEGIN … END inside CREATE TRIGGER is not transaction control)', async () => {
    const { start } = setup({
      '001_audit.sql': `CREATE TABLE orders (sku TEXT); CREATE TABLE audit (sku TEXT);
        CREATE TRIGGER orders_audit AFTER INSERT ON orders BEGIN INSERT INTO audit VALUES (new.sku); END;
        INSERT INTO orders VALUES ('x');`,
    })
    const db = await start()
    expect(db.db.prepare('SELECT sku FROM audit').all()).toEqual([{ sku: 'x' }])
  })
})

describe('migrations: refusing to touch data', () => {
  it('refuses an applied migration whose content changed, naming it, and applies nothing new', async () => {
    const { start, restart, write, file } = setup({ '001_orders.sql': 'CREATE TABLE orders (sku TEXT);' })
    await start()
    write({ '001_orders.sql': 'CREATE TABLE orders (sku TEXT, qty INTEGER);', '002_x.sql': 'CREATE TABLE x (a);' })
    const error = await startError(restart, 'ERR_STORAGE_MIGRATION_CHANGED')
    expect(error.message).toContain('001_orders.sql')
    const { default: Database } = await import('better-sqlite3')
    const raw = new Database(file, { readonly: true })
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'x'").all()).toEqual([])
    raw.close()
    // Restoring the applied file is the way out: 002 then applies, 001 is not re-run.
    write({ '001_orders.sql': 'CREATE TABLE orders (sku TEXT);' })
    const db = await restart()
    expect(tables(db)).toContain('x')
    expect(db.db.prepare('SELECT name FROM pragma_table_info(?)').all('orders')).toEqual([{ name: 'sku' }])
  })

  it('does not count CRLF line ends or a BOM as a change', async () => {
    const { start, restart, write } = setup({ '001_orders.sql': 'CREATE TABLE orders (\n  sku TEXT\n);\n' })
    await start()
    write({ '001_orders.sql': '\uFEFFCREATE TABLE orders (\r\n  sku TEXT\r\n);\r\n' })
    expect(tables(await restart())).toContain('orders')
  })

  it('rolls a failing migration back entirely, names the file and the SQLite message; the fix then applies', async () => {
    const { start, restart, write } = setup({
      '001_orders.sql': 'CREATE TABLE orders (sku TEXT);',
      '002_broken.sql': "CREATE TABLE half (a); INSERT INTO orders VALUES ('x'); INSERT INTO nope VALUES (1);",
    })
    const error = await startError(start, 'ERR_STORAGE_MIGRATION_FAILED')
    expect(error.message).toMatch(/002_broken\.sql.*no such table: nope/)
    write({ '002_broken.sql': 'SELECT 1;' })
    const db = await restart()
    // 001 stayed applied; nothing of the first 002 survived: no table, no row.
    expect(tables(db)).toEqual(['_islet_migrations', 'orders'])
    expect(db.db.prepare('SELECT count(*) AS n FROM orders').get()).toEqual({ n: 0 })
    expect(ledger(db)).toHaveLength(2)
  })

  it('refuses a migration that commits by itself, before running any of it', async () => {
    const { start, file } = setup({ '001_sneaky.sql': 'CREATE TABLE a (x);\nCOMMIT;\nCREATE TABLE b (x);' })
    const error = await startError(start, 'ERR_STORAGE_MIGRATION_FAILED')
    expect(error.message).toMatch(/001_sneaky\.sql.*COMMIT/)
    const { default: Database } = await import('better-sqlite3')
    const raw = new Database(file, { readonly: true })
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name IN ('a', 'b')").all()).toEqual([])
    raw.close()
  })

  it('refuses a new migration numbered below an applied one', async () => {
    const { start, restart, write } = setup({ '001_a.sql': 'CREATE TABLE a (x);', '003_c.sql': 'CREATE TABLE c (x);' })
    await start()
    write({ '002_b.sql': 'CREATE TABLE b (x);' })
    const error = await startError(restart, 'ERR_STORAGE_MIGRATION_ORDER')
    expect(error.message).toMatch(/002_b\.sql.*003_c\.sql/)
  })

  it('readonly: checks but never applies, and refuses pending migrations', async () => {
    const { start, restart, write } = setup({ '001_a.sql': 'CREATE TABLE a (x);' })
    await start()
    await restart()
    const ok = await start({ readonly: true })
    expect(tables(ok)).toContain('a')
    write({ '002_b.sql': 'CREATE TABLE b (x);' })
    const error = await startError(() => start({ readonly: true }), 'ERR_STORAGE_MIGRATION_PENDING')
    expect(error.message).toContain('002_b.sql')
  })
})

describe('migrations: the folder', () => {
  it.each([
    ['orders.sql'], ['one_orders.sql'], ['001-orders.sql'], ['001_.sql'],
  ])('refuses the badly named %s, naming it', async (name) => {
    const { start } = setup({ '001_ok.sql': 'SELECT 1;', [name]: 'SELECT 1;' })
    const error = await startError(start, 'ERR_STORAGE_MIGRATION_NAME')
    expect(error.message).toContain(name)
  })

  it('refuses two files with the same number, naming both, and ignores non-SQL files', async () => {
    const { start } = setup({ '1_a.sql': 'SELECT 1;', '001_b.sql': 'SELECT 1;', 'README.md': '# notes' })
    const error = await startError(start, 'ERR_STORAGE_MIGRATION_NAME')
    expect(error.message).toMatch(/1_a\.sql/)
    expect(error.message).toMatch(/001_b\.sql/)
  })

  it('resolves the folder against the YAML file, and refuses a missing one with its path', async () => {
    const { start, folder } = setup({ '001_a.sql': 'CREATE TABLE a (x);' })
    expect(tables(await start())).toContain('a')
    fs.rmSync(folder, { recursive: true })
    const error = await startError(start, 'ERR_STORAGE_MIGRATIONS_NOT_FOUND')
    expect(error.message).toContain(folder)
  })
})

describe('findTransactionControl', () => {
  it.each([
    ['CREATE TABLE a (x); COMMIT;', 'COMMIT'],
    ['begin transaction; CREATE TABLE a (x);', 'BEGIN'],
    ['CREATE TABLE a (x);\nEND;', 'END'],
    ['SAVEPOINT s; RELEASE s;', 'SAVEPOINT'],
    ["INSERT INTO t VALUES ('; COMMIT'); -- COMMIT\n/* ; ROLLBACK */ SELECT 1;", undefined],
    ['CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN SELECT CASE WHEN 1 THEN 1 END; SELECT 2; END; SELECT 3;', undefined],
    ['CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END; ROLLBACK;', 'ROLLBACK'],
  ])('%s → %s', (sql, expected) => {
    expect(findTransactionControl(sql)).toBe(expected)
  })
})
