// The state store: <dataDir>/state.db (WAL), shared by every state.machine of the app and by every engine process
// on the data dir. An instance row carries its version; a transition commits with UPDATE … WHERE version = ? and its
// history row in one SQLite transaction, so two writers can never both commit from the same version, and that
// transaction is on the disk before the caller hears of it (synchronous FULL).
import type Database from 'better-sqlite3'
import { messageOf } from '@islet/sdk'
import { openWalFile } from '../storage/sqlite-file.ts'
import { StateError } from './errors.ts'

export interface InstanceRow {
  id: string
  state: string
  version: number
  /** JSON object text. */
  data: string
  created_at: number
  updated_at: number
  /** When the state's timeout fires (ms since the epoch), or null. */
  due_at: number | null
  due_event: string | null
}

export interface HistoryRow {
  version: number
  at: number
  from_state: string | null
  to_state: string
  event: string | null
  /** JSON text, or null when there was no payload. */
  payload: string | null
  /** The principal's subject, when the transition had one. */
  who: string | null
}

/** What a transition writes: the new row (same id) and its history entry. */
export interface Commit {
  state: string
  data: string
  at: number
  dueAt: number | null
  dueEvent: string | null
  history: Omit<HistoryRow, 'version' | 'at'>
}

export interface StateStore {
  /** Stores a new instance at version 0 with its creation entry; false when the id is taken. */
  insert(machine: string, id: string, commit: Commit): boolean
  get(machine: string, id: string): InstanceRow | undefined
  history(machine: string, id: string): HistoryRow[]
  list(machine: string, filter: { state?: string; limit: number; offset: number }): InstanceRow[]
  /** Commits version `version + 1` if the row is still at `version`; false when another writer got there first. */
  commit(machine: string, id: string, version: number, commit: Commit): boolean
  /** The earliest due time of the machine's instances, if any. */
  nextDue(machine: string): number | undefined
  /** Instances whose timeout is due at `now`, earliest first. */
  due(machine: string, now: number, limit: number): InstanceRow[]
  /**
   * Takes a due timeout for this process: moves its due time to `until` if it still is `dueAt` at `version`. Only one
   * process wins; if it dies before the transition commits, the timeout is due again at `until`.
   */
  claim(machine: string, id: string, version: number, dueAt: number, until: number): boolean
  /** Drops the timeout of an instance still at `version` (its event was refused: firing it again would be too). */
  dropDue(machine: string, id: string, version: number): void
  /** Instances per state. */
  counts(machine: string): Record<string, number>
  close(): void
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  machine TEXT NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  due_at INTEGER,
  due_event TEXT,
  PRIMARY KEY (machine, id)
) STRICT;
CREATE INDEX IF NOT EXISTS instances_by_state ON instances (machine, state, created_at);
CREATE INDEX IF NOT EXISTS instances_by_due ON instances (machine, due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS history (
  machine TEXT NOT NULL,
  instance TEXT NOT NULL,
  version INTEGER NOT NULL,
  at INTEGER NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  event TEXT,
  payload TEXT,
  who TEXT,
  PRIMARY KEY (machine, instance, version)
) STRICT;
`

export function openStateStore(file: string): StateStore {
  let db: Database.Database
  try {
    db = openWalFile(file)
    // FULL, not the NORMAL of the other stores: a transition answered to its caller (after its action charged a card,
    // say) must still be there after a power cut, not only after a crash. The price is an fsync per commit.
    db.pragma('synchronous = FULL')
    db.exec(SCHEMA)
  } catch (error) {
    throw new StateError('ERR_STATE_STORE', `cannot open the state store ${file}: ${messageOf(error)}`, { details: { file }, cause: error })
  }
  const insertRow = db.prepare(`INSERT INTO instances (machine, id, state, version, data, created_at, updated_at, due_at, due_event)
    VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
  const insertHistory = db.prepare(`INSERT INTO history (machine, instance, version, at, from_state, to_state, event, payload, who)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const getRow = db.prepare<[string, string], InstanceRow>(`SELECT id, state, version, data, created_at, updated_at, due_at, due_event
    FROM instances WHERE machine = ? AND id = ?`)
  const getHistory = db.prepare<[string, string], HistoryRow>(`SELECT version, at, from_state, to_state, event, payload, who
    FROM history WHERE machine = ? AND instance = ? ORDER BY version`)
  const listAll = db.prepare<[string, number, number], InstanceRow>(`SELECT id, state, version, data, created_at, updated_at, due_at, due_event
    FROM instances WHERE machine = ? ORDER BY created_at, id LIMIT ? OFFSET ?`)
  const listIn = db.prepare<[string, string, number, number], InstanceRow>(`SELECT id, state, version, data, created_at, updated_at, due_at, due_event
    FROM instances WHERE machine = ? AND state = ? ORDER BY created_at, id LIMIT ? OFFSET ?`)
  const update = db.prepare(`UPDATE instances SET state = ?, version = version + 1, data = ?, updated_at = ?, due_at = ?, due_event = ?
    WHERE machine = ? AND id = ? AND version = ?`)
  const firstDue = db.prepare<[string], { due_at: number }>(`SELECT due_at FROM instances WHERE machine = ? AND due_at IS NOT NULL ORDER BY due_at LIMIT 1`)
  const dueRows = db.prepare<[string, number, number], InstanceRow>(`SELECT id, state, version, data, created_at, updated_at, due_at, due_event
    FROM instances WHERE machine = ? AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?`)
  const claimRow = db.prepare(`UPDATE instances SET due_at = ? WHERE machine = ? AND id = ? AND version = ? AND due_at = ?`)
  const dropRow = db.prepare(`UPDATE instances SET due_at = NULL, due_event = NULL WHERE machine = ? AND id = ? AND version = ?`)
  const countRows = db.prepare<[string], { state: string; n: number }>(`SELECT state, count(*) AS n FROM instances WHERE machine = ? GROUP BY state`)

  const history = (machine: string, id: string, version: number, c: Commit) => insertHistory.run(machine, id, version, c.at,
    c.history.from_state, c.history.to_state, c.history.event, c.history.payload, c.history.who)
  const inserting = db.transaction((machine: string, id: string, c: Commit): boolean => {
    if (insertRow.run(machine, id, c.state, c.data, c.at, c.at, c.dueAt, c.dueEvent).changes === 0) return false
    history(machine, id, 0, c)
    return true
  })
  const committing = db.transaction((machine: string, id: string, version: number, c: Commit): boolean => {
    if (update.run(c.state, c.data, c.at, c.dueAt, c.dueEvent, machine, id, version).changes === 0) return false
    history(machine, id, version + 1, c)
    return true
  })
  return {
    // IMMEDIATE: the write lock is taken first, so the version read by the UPDATE is the one it writes over.
    insert: (machine, id, c) => inserting.immediate(machine, id, c),
    get: (machine, id) => getRow.get(machine, id),
    history: (machine, id) => getHistory.all(machine, id),
    list: (machine, f) => (f.state === undefined ? listAll.all(machine, f.limit, f.offset) : listIn.all(machine, f.state, f.limit, f.offset)),
    commit: (machine, id, version, c) => committing.immediate(machine, id, version, c),
    nextDue: (machine) => firstDue.get(machine)?.due_at,
    due: (machine, now, limit) => dueRows.all(machine, now, limit),
    claim: (machine, id, version, dueAt, until) => claimRow.run(until, machine, id, version, dueAt).changes === 1,
    dropDue: (machine, id, version) => { dropRow.run(machine, id, version) },
    counts: (machine) => Object.fromEntries(countRows.all(machine).map((r) => [r.state, r.n])),
    close: () => { if (db.open) db.close() },
  }
}
