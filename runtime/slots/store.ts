// The slot store: every deployed version of every slot, which one is live, and who did what (audit), in one SQLite
// file <dataDir>/slots/slots.db. File contents are kept once each, by sha256, under objects/; a version's files are
// written out as a folder (trees/<slot>/<hash>/) for the compiler, and written again from the objects when missing.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import type Database from 'better-sqlite3'
import type { AuditEntry, DeployFiles, Diagnostic, SlotVersion, SlotVersionStatus } from '@islet/sdk'
import { openWalFile } from '../../plugins/storage/sqlite-file.ts'
import { IsletError, messageOf } from '../errors.ts'

export interface StoredFile { path: string; bytes: number; sha256: string }

export interface NewVersion {
  slot: string
  hash: string
  author: string
  status: SlotVersionStatus
  entry: string
  message?: string
  files: StoredFile[]
  diagnostics: Diagnostic[]
}

export interface SlotStore {
  readonly dir: string
  /** Stores each file's content under its sha256 (once); returns the files in path order. */
  putFiles(files: DeployFiles): StoredFile[]
  /** The folder holding `version`'s files, written from the objects if it is missing or incomplete. */
  tree(version: SlotVersion): string
  /** Writes `files` as the tree of `hash` (before a version exists: the validator compiles it). */
  materialise(slot: string, hash: string, files: DeployFiles): string
  /**
   * Removes the tree of `hash` unless a version of `slot` that may still be made live (staged, live, retired) has it:
   * what a dry run or a refused deploy wrote for the validator does not stay on disk (the objects keep a refused
   * version's sources, and `tree` writes any tree again when it is needed).
   */
  dropTree(slot: string, hash: string): void
  /** Stores a version with the next id of its slot (1, 2, 3…, never reused). */
  insert(version: NewVersion): SlotVersion
  get(slot: string, id: number): SlotVersion | undefined
  list(slot: string): SlotVersion[]
  files(version: SlotVersion): DeployFiles
  live(slot: string): number | null
  /** Makes `id` the live version (the one before becomes retired), in one transaction. */
  setLive(slot: string, id: number): void
  /** The version live before the current one: the retired one promoted last. */
  previousLive(slot: string): number | null
  audit(entry: Omit<AuditEntry, 'at'>): void
  auditList(options?: { slot?: string; limit?: number }): AuditEntry[]
  close(): void
}

/** sha256 over the sorted paths and contents and the entry: equal hashes, equal deployments. */
export function deploymentHash(files: DeployFiles, entry: string): string {
  const hash = createHash('sha256')
  for (const path of Object.keys(files).sort()) hash.update(`${path}\0${Buffer.byteLength(files[path]!)}\0${files[path]}\0`)
  hash.update(`entry\0${entry}`)
  return hash.digest('hex')
}

/** fs errors that a deployment's own paths cause (the rest are the store's: ERR_SLOT_STORE territory). */
const PATH_ERRORS = new Set(['ENAMETOOLONG', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EINVAL', 'EILSEQ'])

interface VersionRow {
  slot: string; id: number; hash: string; author: string; created_at: string; status: string; entry: string
  message: string | null; files: string; diagnostics: string
}

export function openSlotStore(dataDir: string): SlotStore {
  const dir = join(dataDir, 'slots')
  let db: Database.Database
  try {
    mkdirSync(join(dir, 'objects'), { recursive: true })
    db = openWalFile(join(dir, 'slots.db'))
    db.exec(`
      CREATE TABLE IF NOT EXISTS versions (
        slot TEXT NOT NULL, id INTEGER NOT NULL, hash TEXT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL,
        status TEXT NOT NULL, entry TEXT NOT NULL, message TEXT, files TEXT NOT NULL, diagnostics TEXT NOT NULL,
        promoted_seq INTEGER, PRIMARY KEY (slot, id));
      CREATE TABLE IF NOT EXISTS live (slot TEXT PRIMARY KEY, version INTEGER NOT NULL, seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, principal TEXT NOT NULL, action TEXT NOT NULL,
        slot TEXT NOT NULL, version INTEGER, hash TEXT, result TEXT NOT NULL, detail TEXT);
      CREATE INDEX IF NOT EXISTS audit_slot ON audit (slot, seq);`)
  } catch (error) {
    throw new IsletError('ERR_SLOT_STORE', `the slot store ${join(dir, 'slots.db')} cannot be opened: ${messageOf(error)}`, { cause: error })
  }
  const q = {
    next: db.prepare('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM versions WHERE slot = ?'),
    insert: db.prepare(`INSERT INTO versions (slot, id, hash, author, created_at, status, entry, message, files, diagnostics)
      VALUES (@slot, @id, @hash, @author, @created_at, @status, @entry, @message, @files, @diagnostics)`),
    get: db.prepare('SELECT * FROM versions WHERE slot = ? AND id = ?'),
    list: db.prepare('SELECT * FROM versions WHERE slot = ? ORDER BY id'),
    usable: db.prepare("SELECT 1 FROM versions WHERE slot = ? AND hash = ? AND status != 'rejected' LIMIT 1"),
    live: db.prepare('SELECT version FROM live WHERE slot = ?'),
    seq: db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM live'),
    maxPromoted: db.prepare('SELECT COALESCE(MAX(promoted_seq), 0) + 1 AS seq FROM versions'),
    setLive: db.prepare('INSERT INTO live (slot, version, seq) VALUES (?, ?, ?) ON CONFLICT(slot) DO UPDATE SET version = excluded.version, seq = excluded.seq'),
    status: db.prepare('UPDATE versions SET status = ? WHERE slot = ? AND id = ?'),
    promoted: db.prepare("UPDATE versions SET status = 'live', promoted_seq = ? WHERE slot = ? AND id = ?"),
    previous: db.prepare("SELECT id FROM versions WHERE slot = ? AND status = 'retired' AND promoted_seq IS NOT NULL ORDER BY promoted_seq DESC LIMIT 1"),
    audit: db.prepare('INSERT INTO audit (at, principal, action, slot, version, hash, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    auditAll: db.prepare('SELECT * FROM audit ORDER BY seq DESC LIMIT ?'),
    auditSlot: db.prepare('SELECT * FROM audit WHERE slot = ? ORDER BY seq DESC LIMIT ?'),
  }
  const toVersion = (row: VersionRow): SlotVersion => ({
    slot: row.slot, id: row.id, hash: row.hash, author: row.author, createdAt: row.created_at,
    status: row.status as SlotVersionStatus, entry: row.entry, ...(row.message !== null ? { message: row.message } : {}),
    files: (JSON.parse(row.files) as StoredFile[]).map(({ path, bytes }) => ({ path, bytes })),
    diagnostics: JSON.parse(row.diagnostics) as Diagnostic[],
  })
  const storedFiles = (slot: string, id: number): StoredFile[] =>
    JSON.parse((q.get.get(slot, id) as VersionRow).files) as StoredFile[]
  const objectPath = (sha: string) => join(dir, 'objects', sha)

  /** Writes `files` into `target` by way of a temporary folder renamed into place: a tree is complete or absent. */
  function writeTree(target: string, files: DeployFiles): string {
    if (existsSync(join(target, '.complete'))) return target
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
    let current = ''
    try {
      for (const [path, text] of Object.entries(files)) {
        current = path
        const file = resolve(tmp, path)
        // checkDeployFiles refused such paths already; a tree never reaches outside its folder whatever it is given.
        if (!file.startsWith(tmp + sep)) throw new IsletError('ERR_DEPLOY_FILES', `the path '${path}' leads outside the deployment`)
        mkdirSync(dirname(file), { recursive: true })
        writeFileSync(file, text)
      }
      writeFileSync(join(tmp, '.complete'), '')
      rmSync(target, { recursive: true, force: true })
      mkdirSync(dirname(target), { recursive: true })
      renameSync(tmp, target)
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true })
      // Another process (or an earlier call) finished the same tree meanwhile: same hash, same files.
      if (existsSync(join(target, '.complete'))) return target
      // A name the disk refuses (too long, a file that is also a folder): the deployment's fault, said without our paths.
      const code = (error as NodeJS.ErrnoException).code
      if (code !== undefined && PATH_ERRORS.has(code)) {
        throw new IsletError('ERR_DEPLOY_FILES', `the file ${JSON.stringify(current.slice(0, 120))} cannot be written to disk (${code}): rename it`,
          { cause: error, details: { status: 422, file: current.slice(0, 120) } })
      }
      throw error
    }
    return target
  }

  const store: SlotStore = {
    dir,
    putFiles(files) {
      return Object.keys(files).sort().map((path) => {
        const text = files[path]!
        const sha256 = createHash('sha256').update(text).digest('hex')
        const file = objectPath(sha256)
        if (!existsSync(file)) {
          const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
          writeFileSync(tmp, text)
          renameSync(tmp, file)
        }
        return { path, bytes: Buffer.byteLength(text), sha256 }
      })
    },
    materialise: (slot, hash, files) => writeTree(join(dir, 'trees', slot, hash), files),
    dropTree(slot, hash) {
      if (q.usable.get(slot, hash)) return
      rmSync(join(dir, 'trees', slot, hash), { recursive: true, force: true })
    },
    tree: (version) => writeTree(join(dir, 'trees', version.slot, version.hash), store.files(version)),
    insert(v) {
      const run = db.transaction((): number => {
        const { id } = q.next.get(v.slot) as { id: number }
        q.insert.run({ slot: v.slot, id, hash: v.hash, author: v.author, created_at: new Date().toISOString(), status: v.status,
          entry: v.entry, message: v.message ?? null, files: JSON.stringify(v.files), diagnostics: JSON.stringify(v.diagnostics) })
        return id
      })
      // IMMEDIATE: two engine processes on one data dir never hand out one id twice.
      return store.get(v.slot, run.immediate())!
    },
    get(slot, id) {
      const row = q.get.get(slot, id) as VersionRow | undefined
      return row ? toVersion(row) : undefined
    },
    list: (slot) => (q.list.all(slot) as VersionRow[]).map(toVersion),
    files(version) {
      const out: DeployFiles = {}
      for (const f of storedFiles(version.slot, version.id)) {
        try {
          out[f.path] = readFileSync(objectPath(f.sha256), 'utf8')
        } catch (error) {
          throw new IsletError('ERR_SLOT_STORE', `slot '${version.slot}' version ${version.id}: the content of ${f.path} (${f.sha256.slice(0, 12)}) is missing from ${join(dir, 'objects')}`, { cause: error })
        }
      }
      return out
    },
    live(slot) {
      const row = q.live.get(slot) as { version: number } | undefined
      return row ? row.version : null
    },
    setLive(slot, id) {
      db.transaction(() => {
        const before = q.live.get(slot) as { version: number } | undefined
        if (before && before.version !== id) q.status.run('retired', slot, before.version)
        const { seq } = q.maxPromoted.get() as { seq: number }
        q.promoted.run(seq, slot, id)
        q.setLive.run(slot, id, (q.seq.get() as { seq: number }).seq)
      }).immediate()
    },
    previousLive(slot) {
      const row = q.previous.get(slot) as { id: number } | undefined
      return row ? row.id : null
    },
    audit(e) {
      q.audit.run(new Date().toISOString(), e.principal, e.action, e.slot, e.version, e.hash, e.result, e.detail ?? null)
    },
    auditList({ slot, limit = 100 } = {}) {
      const rows = (slot ? q.auditSlot.all(slot, limit) : q.auditAll.all(limit)) as (AuditEntry & { seq: number; detail: string | null })[]
      return rows.map(({ seq: _seq, detail, ...r }) => ({ ...r, ...(detail !== null ? { detail } : {}) }))
    },
    close: () => db.close(),
  }
  return store
}
