// storage.sqlite on real files: where the file goes, WAL and pragmas, restarts, closing, open errors, readonly.
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { isStorageError } from './errors.ts'
import { moduleContext, recordingLogger, startSqlite, tempDirs } from './test-context.ts'
import { createSqliteModule } from './sqlite-module.ts'

const dirs = tempDirs()
afterEach(() => dirs.cleanup())

describe('storage.sqlite: the database file', () => {
  it('puts a relative file under the data directory, creating missing folders', async () => {
    const dataDir = dirs.make()
    const db = await startSqlite({ file: 'nested/deeper/app.db' }, moduleContext({ dataDir }))
    expect(db.file).toBe(path.join(dataDir, 'nested/deeper/app.db'))
    expect(fs.existsSync(path.join(dataDir, 'nested/deeper/app.db'))).toBe(true)
    db.stop?.()
  })

  it('accepts an absolute file inside the data directory', async () => {
    const dataDir = dirs.make()
    const db = await startSqlite({ file: path.join(dataDir, 'abs.db') }, moduleContext({ dataDir }))
    expect(db.file).toBe(path.join(dataDir, 'abs.db'))
    expect(fs.existsSync(path.join(dataDir, 'abs.db'))).toBe(true)
    db.stop?.()
  })

  it('refuses a file outside the data directory: absolute, climbing out with .., or through a symlinked folder', () => {
    const elsewhere = dirs.make()
    const dataDir = dirs.make()
    fs.symlinkSync(elsewhere, path.join(dataDir, 'link'))
    for (const file of [path.join(elsewhere, 'abs.db'), '../escape.db', 'link/app.db']) {
      let error: unknown
      try {
        createSqliteModule({ file, busyTimeoutMs: 5000, readonly: false, synchronous: 'NORMAL' }, moduleContext({ dataDir }))
      } catch (e) {
        error = e
      }
      expect(isStorageError(error, 'ERR_STORAGE_FILE_OUTSIDE'), file).toBe(true)
      expect((error as Error).message).toContain('outside the data directory')
    }
    expect(fs.readdirSync(elsewhere)).toEqual([])
    expect(fs.existsSync(path.join(path.dirname(dataDir), 'escape.db'))).toBe(false)
  })

  it('opens :memory: without touching the disk', async () => {
    const dataDir = dirs.make()
    const db = await startSqlite({ file: ':memory:' }, moduleContext({ dataDir }))
    expect(db.db.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 })
    expect(fs.readdirSync(dataDir)).toEqual([])
    db.stop?.()
  })
})

describe('storage.sqlite: connection settings', () => {
  it('runs in WAL mode with foreign keys on, busy timeout and synchronous=NORMAL, and logs the journal mode', async () => {
    const dataDir = dirs.make()
    const { logger, lines } = recordingLogger()
    const db = await startSqlite({ file: 'app.db', busyTimeoutMs: 1234 }, moduleContext({ dataDir, logger }))
    expect(db.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.db.pragma('busy_timeout', { simple: true })).toBe(1234)
    expect(db.db.pragma('synchronous', { simple: true })).toBe(1) // 1 = NORMAL
    expect(lines.some((line) => line.journalMode === 'wal')).toBe(true)
    db.stop?.()
    // WAL is a property of the file: any other connection sees it too.
    const other = new Database(path.join(dataDir, 'app.db'))
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal')
    other.close()
  })

  it('enforces foreign keys', async () => {
    const db = await startSqlite({ file: 'app.db' }, moduleContext({ dataDir: dirs.make() }))
    db.db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY); CREATE TABLE orders (customer REFERENCES customers(id))')
    expect(() => db.db.prepare('INSERT INTO orders VALUES (42)').run()).toThrow(/FOREIGN KEY/)
    db.stop?.()
  })

  it('honours synchronous: FULL', async () => {
    const db = await startSqlite({ file: 'app.db', synchronous: 'FULL' }, moduleContext({ dataDir: dirs.make() }))
    expect(db.db.pragma('synchronous', { simple: true })).toBe(2)
    db.stop?.()
  })
})

describe('storage.sqlite: lifecycle', () => {
  it('keeps data across a stop and a new instance on the same file (a restart)', async () => {
    const dataDir = dirs.make()
    const first = await startSqlite({ file: 'app.db' }, moduleContext({ dataDir }))
    first.db.exec("CREATE TABLE orders (sku TEXT); INSERT INTO orders VALUES ('a'), ('b')")
    first.stop?.()
    const second = await startSqlite({ file: 'app.db' }, moduleContext({ dataDir }))
    expect(second.db.prepare('SELECT sku FROM orders ORDER BY sku').all()).toEqual([{ sku: 'a' }, { sku: 'b' }])
    second.stop?.()
  })

  it('checkpoints the WAL on stop: the main file alone holds every committed row', async () => {
    const dataDir = dirs.make()
    const db = await startSqlite({ file: 'app.db' }, moduleContext({ dataDir }))
    db.db.exec("CREATE TABLE orders (sku TEXT); INSERT INTO orders VALUES ('kept')")
    db.stop?.()
    // Copy only the main file, as a careless backup would: without the checkpoint the row would be in -wal only.
    const copy = path.join(dirs.make(), 'copy.db')
    fs.copyFileSync(path.join(dataDir, 'app.db'), copy)
    const reopened = new Database(copy, { readonly: true })
    expect(reopened.prepare('SELECT sku FROM orders').all()).toEqual([{ sku: 'kept' }])
    reopened.close()
  })

  it('refuses access before start and after stop, naming the module; stop is idempotent', async () => {
    const module = createSqliteModule({ file: 'app.db', busyTimeoutMs: 5000, readonly: false, synchronous: 'NORMAL' },
      moduleContext({ dataDir: dirs.make(), name: 'orders-db' }))
    expect(module.isOpen).toBe(false)
    expect(() => module.db).toThrow(expect.objectContaining({ code: 'ERR_STORAGE_NOT_OPEN' }))
    expect(() => module.prepare('SELECT 1')).toThrow(/'orders-db' has not started/)
    await module.start?.()
    expect(module.isOpen).toBe(true)
    module.stop?.()
    module.stop?.()
    expect(module.isOpen).toBe(false)
    expect(() => module.db).toThrow(/'orders-db' has stopped/)
  })

  it('does not touch the disk before start', () => {
    const dataDir = dirs.make()
    createSqliteModule({ file: 'app.db', busyTimeoutMs: 5000, readonly: false, synchronous: 'NORMAL' },
      moduleContext({ dataDir }))
    expect(fs.readdirSync(dataDir)).toEqual([])
  })
})

describe('storage.sqlite: open errors and readonly', () => {
  it('refuses a file that is not a database, naming the file, and leaves it untouched', async () => {
    const dataDir = dirs.make()
    const file = path.join(dataDir, 'notes.db')
    fs.writeFileSync(file, 'this is a text file, not SQLite '.repeat(100))
    const error = await startSqlite({ file }, moduleContext({ dataDir })).catch((e: unknown) => e)
    expect(isStorageError(error, 'ERR_STORAGE_OPEN_FAILED')).toBe(true)
    expect((error as Error).message).toContain(file)
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^this is a text file/)
  })

  it('readonly: reads an existing database, refuses writes, and never creates a missing file', async () => {
    const dataDir = dirs.make()
    const writer = await startSqlite({ file: 'app.db' }, moduleContext({ dataDir }))
    writer.db.exec("CREATE TABLE orders (sku TEXT); INSERT INTO orders VALUES ('a')")
    writer.stop?.()
    const reader = await startSqlite({ file: 'app.db', readonly: true }, moduleContext({ dataDir }))
    expect(reader.db.prepare('SELECT sku FROM orders').all()).toEqual([{ sku: 'a' }])
    expect(() => reader.db.exec("INSERT INTO orders VALUES ('b')")).toThrow(/readonly/)
    reader.stop?.()

    const missing = await startSqlite({ file: 'missing.db', readonly: true }, moduleContext({ dataDir }))
      .catch((e: unknown) => e)
    expect(isStorageError(missing, 'ERR_STORAGE_OPEN_FAILED')).toBe(true)
    expect((missing as Error).message).toMatch(/missing\.db.*readonly: true needs an existing database/)
    expect(fs.existsSync(path.join(dataDir, 'missing.db'))).toBe(false)
  })
})
