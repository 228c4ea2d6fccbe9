// Which invocation a sandbox worker is running guest code for, told to the supervisor in a way that survives the
// worker being stuck inside that code: a builtin V8 cannot interrupt (`indexOf` over a sparse array of length
// 2**32-1) holds the worker's event loop, so no IPC message could say it, but a record written *before* the slice
// began is already there. On a backup-deadline kill or a crash the supervisor charges the call the record names, and
// no one else.
//
// The record is one fixed-size block at offset 0 of a file the supervisor creates, unlinks at once and hands the
// worker as its fd 4: the worker overwrites it (one pwrite) as a slice begins that the record does not cover yet, and
// once it goes idle; the supervisor reads it only when it must judge (a call overdue, the worker gone). Nothing
// crosses the engine's event loop per slice.
// Layout, ASCII, space-padded to RECORD_BYTES:
//   `<seq> b <id> <startedAtMs> <timeoutMs> <maxBegun> <key> <seq>`  a slice of invocation <id> (the supervisor's
//        id; 0 for a load's module code) of generation <key> began at <startedAtMs> (Date.now()) and may run
//        <timeoutMs> ms; <maxBegun> is the highest invocation id whose first slice has begun in this worker
//   `<seq> e 0 0 0 <maxBegun> - <seq>`  no slice is running
// <seq> twice: a read racing a write (the supervisor reads while the worker writes) is told by a mismatch.
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The worker's fd of the record file (stdio entry 4). */
export const SLICE_RECORD_FD = 4
// Room for the longest key a component named after its file can have (255 bytes, `@<generation>`) and the numbers:
// a record cut short would read as torn, and a stall in that component be charged to no one.
const RECORD_BYTES = 1024

export interface Running {
  id: number
  timeoutMs: number
  key: string
}

export interface SliceRecorder {
  /** Records that a slice begins; returns what was running before, for `restore`. */
  begin(id: number, timeoutMs: number, key: string): Running | undefined
  /** Slices nest (an init that finishes inside its slice starts waiting executes): the outer one is running again. */
  restore(outer: Running | undefined): void
}

/** The worker's side. Without the file (a worker started by hand), nothing is written. */
export function openSliceRecorder(fd = SLICE_RECORD_FD): SliceRecorder {
  const block = Buffer.alloc(RECORD_BYTES, 0x20)
  // Only ever the file the supervisor handed over: without it, fd 4 may be anything the process opened itself.
  let open = false
  try { open = fstatSync(fd).isFile() } catch { /* not open: nothing to tell */ }
  let seq = 0
  let maxBegun = 0
  let current: (Running & { startedAt: number }) | undefined
  /** What the file says now: a write is skipped when it would tell the supervisor nothing new. */
  let written: { id: number; key: string; until: number } | undefined
  let idleScheduled = false
  const write = () => {
    if (!open) return
    const s = ++seq
    const body = current ? `b ${current.id} ${current.startedAt} ${Math.ceil(current.timeoutMs)} ${maxBegun} ${current.key}` : `e 0 0 0 ${maxBegun} -`
    written = current ? { id: current.id, key: current.key, until: current.startedAt + Math.ceil(current.timeoutMs) } : undefined
    block.fill(0x20)
    block.write(`${s} ${body} ${s}`.slice(0, RECORD_BYTES), 'latin1')
    try { writeSync(fd, block, 0, RECORD_BYTES, 0) } catch { open = false } // the file is gone with the supervisor
  }
  // Idle is written once the worker has nothing left to run in this turn, not after every slice: back-to-back slices
  // (calls in flight, an invocation's own slices) then cost one write each or none. Until then the record still
  // names the slice that just ended; a worker stuck or crashing outside guest code in that same turn is charged to it.
  const idleSoon = () => {
    if (idleScheduled) return
    idleScheduled = true
    setImmediate(() => {
      idleScheduled = false
      if (!current && written) write()
    })
  }
  const show = () => {
    // The record already names this invocation of this generation, with a window that covers this slice's: the
    // supervisor would judge it the same way, so nothing is written (an invocation's later slices).
    if (current && written && written.id === current.id && written.key === current.key &&
      written.until >= current.startedAt + Math.ceil(current.timeoutMs)) return
    write()
  }
  return {
    begin(id, timeoutMs, key) {
      const outer = current
      if (id > maxBegun) maxBegun = id
      current = { id, timeoutMs, key, startedAt: Date.now() }
      show()
      return outer
    },
    restore(outer) {
      // The outer slice's clock runs from when it began (its own startedAt, kept in what begin returned).
      current = outer ? { startedAt: Date.now(), ...outer } : undefined
      if (current) show()
      else idleSoon()
    },
  }
}

/** What the supervisor reads. */
export interface SliceState {
  running?: Running & { startedAt: number }
  /** The highest invocation id that began in the worker: a lost call above it never ran any of its code. */
  maxBegun: number
  /** The record's write count (0: never written; absent: unreadable): it moved if a slice began since a read. */
  seq?: number
}

export interface SliceFile {
  /** The fd to hand the worker as its stdio entry 4 ('ignore' when no file could be made: then no one is blamed). */
  fd: number | 'ignore'
  read(): SliceState
  close(): void
}

/** The supervisor's side: a fresh record file per worker, unlinked at once (only the two fds keep it). */
export function createSliceFile(): SliceFile {
  let fd: number
  try {
    const dir = mkdtempSync(join(tmpdir(), 'islet-slices-'))
    fd = openSync(join(dir, 'record'), 'w+', 0o600)
    rmSync(dir, { recursive: true, force: true })
  } catch {
    // No writable temp folder: the worker still runs; a stall or crash in it is then charged to no one
    return { fd: 'ignore', read: () => ({ maxBegun: Number.MAX_SAFE_INTEGER }), close() {} } // and no lost call is retried
  }
  const block = Buffer.alloc(RECORD_BYTES)
  let closed = false
  return {
    fd,
    read() {
      // A record that cannot be read says nothing: no one is blamed and no lost call is retried (a call wrongly
      // taken for unbegun would run twice; one wrongly taken for begun only fails as lost).
      const unknown: SliceState = { maxBegun: Number.MAX_SAFE_INTEGER }
      for (let attempt = 0; attempt < 5 && !closed; attempt++) {
        const n = readSync(fd, block, 0, RECORD_BYTES, 0)
        if (n === 0) return { maxBegun: 0, seq: 0 }
        const parts = block.toString('latin1', 0, n).trim().split(/\s+/)
        if (parts.length !== 8 || parts[0] !== parts[7]) continue // torn by a concurrent write: read again
        const [seq, state, id, startedAt, timeoutMs, maxBegun, key] = parts as [string, string, string, string, string, string, string]
        return state === 'b'
          ? { running: { id: Number(id), startedAt: Number(startedAt), timeoutMs: Number(timeoutMs), key }, maxBegun: Number(maxBegun), seq: Number(seq) }
          : { maxBegun: Number(maxBegun), seq: Number(seq) }
      }
      return unknown
    },
    close() {
      if (closed) return
      closed = true
      closeSync(fd)
    },
  }
}
