// <dataDir>/schedules.db: each job's last run (for `missed:` after downtime) and one claim row per job and scheduled
// time. Every engine process sharing the data dir arms the same timers; the first to insert the claim row runs that
// time, the others see the row and do nothing, so a job fires once, not once per process (or per generation during
// a reload).
import type Database from 'better-sqlite3'
import { openWalFile } from '../storage/sqlite-file.ts'

/** Claim rows older than this (relative to the newest claim of the job) are pruned: nobody fires that late. */
const CLAIM_RETENTION_MS = 7 * 24 * 3600_000

export interface JobRow {
  /** When this definition (cron + time zone) was first armed: runs before it were never due. */
  since: number
  lastScheduledAt: number | null
  lastFiredAt: number | null
}

export interface ScheduleStore {
  /** Records the job's definition; a changed one starts afresh (its old last run says nothing about the new times). */
  arm(job: string, cron: string, timezone: string, now: number): JobRow
  /** True when this caller is the one to run `job` at `scheduledAt`; records it as the job's last run. */
  claim(job: string, scheduledAt: number, owner: string, now: number): boolean
  row(job: string): JobRow | undefined
  close(): void
}

export function openScheduleStore(file: string): ScheduleStore {
  const db: Database.Database = openWalFile(file)
  db.exec(`
    CREATE TABLE IF NOT EXISTS schedule_jobs (
      job TEXT PRIMARY KEY, cron TEXT NOT NULL, timezone TEXT NOT NULL, since INTEGER NOT NULL,
      last_scheduled_at INTEGER, last_fired_at INTEGER, last_owner TEXT
    ) STRICT;
    CREATE TABLE IF NOT EXISTS schedule_claims (
      job TEXT NOT NULL, scheduled_at INTEGER NOT NULL, owner TEXT NOT NULL, claimed_at INTEGER NOT NULL,
      PRIMARY KEY (job, scheduled_at)
    ) STRICT, WITHOUT ROWID;`)
  const select = db.prepare<[string], { cron: string; timezone: string; since: number; last_scheduled_at: number | null; last_fired_at: number | null }>(
    'SELECT cron, timezone, since, last_scheduled_at, last_fired_at FROM schedule_jobs WHERE job = ?')
  const upsert = db.prepare(`INSERT INTO schedule_jobs (job, cron, timezone, since) VALUES (?, ?, ?, ?)
    ON CONFLICT (job) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, since = excluded.since,
      last_scheduled_at = NULL, last_fired_at = NULL, last_owner = NULL`)
  const insertClaim = db.prepare('INSERT OR IGNORE INTO schedule_claims (job, scheduled_at, owner, claimed_at) VALUES (?, ?, ?, ?)')
  const recordRun = db.prepare(`UPDATE schedule_jobs SET last_scheduled_at = max(coalesce(last_scheduled_at, 0), ?),
    last_fired_at = ?, last_owner = ? WHERE job = ?`)
  const prune = db.prepare('DELETE FROM schedule_claims WHERE job = ? AND scheduled_at < ?')
  const rowOf = (job: string): JobRow | undefined => {
    const r = select.get(job)
    return r && { since: r.since, lastScheduledAt: r.last_scheduled_at, lastFiredAt: r.last_fired_at }
  }
  // IMMEDIATE: the claim and the last-run update are one write, taken before another process can interleave.
  const arm = db.transaction((job: string, cron: string, timezone: string, now: number) => {
    const r = select.get(job)
    if (!r || r.cron !== cron || r.timezone !== timezone) upsert.run(job, cron, timezone, now)
    return rowOf(job)!
  })
  const claim = db.transaction((job: string, scheduledAt: number, owner: string, now: number) => {
    if (insertClaim.run(job, scheduledAt, owner, now).changes === 0) return false
    recordRun.run(scheduledAt, now, owner, job)
    prune.run(job, scheduledAt - CLAIM_RETENTION_MS)
    return true
  })
  return {
    arm: (job, cron, timezone, now) => arm.immediate(job, cron, timezone, now),
    claim: (job, scheduledAt, owner, now) => claim.immediate(job, scheduledAt, owner, now),
    row: rowOf,
    close: () => db.close(),
  }
}
