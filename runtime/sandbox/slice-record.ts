// Which invocation a sandbox worker is running guest code for, told to the supervisor in a way that survives the
// worker being stuck inside that code: a builtin V8 cannot interrupt (`[].join` over a sparse array of length
// 2**32-1) holds the worker's event loop, so no IPC message could say it, but a record written *before* the slice
// began is already in the pipe. The supervisor keeps only the last record per worker: on a backup-deadline kill or a
// crash it charges the call that record names, and no one else.
//
// Records travel on the worker's fd 4 (stdio entry 'pipe'), one ASCII line each, far below PIPE_BUF so every write
// is atomic:
//   `b <id> <timeoutMs> <key>\n`  a slice of invocation <id> (the supervisor's id; 0 for a load's module code) of
//                                component generation <key> begins, and may run for <timeoutMs> ms
//   `e\n`                        no slice is running
import { fstatSync, writeSync } from 'node:fs'
import type { Readable } from 'node:stream'

/** The worker's end of the record pipe. */
export const SLICE_RECORD_FD = 4

export interface SliceRecorder {
  /** Writes a begin record; returns what was running before, for `restore`. */
  begin(id: number, timeoutMs: number, key: string): Running | undefined
  /** Slices nest (an init that finishes inside its slice starts waiting executes): the outer one is running again. */
  restore(outer: Running | undefined): void
}

export interface Running {
  id: number
  timeoutMs: number
  key: string
}

export function openSliceRecorder(fd = SLICE_RECORD_FD): SliceRecorder {
  let open = true
  try { fstatSync(fd) } catch { open = false } // spawned without the pipe (a test harness): nothing to tell
  let current: Running | undefined
  const write = (line: string) => {
    if (!open) return
    try { writeSync(fd, line) } catch { open = false } // the supervisor is gone
  }
  return {
    begin(id, timeoutMs, key) {
      const outer = current
      current = { id, timeoutMs, key }
      write(`b ${id} ${Math.ceil(timeoutMs)} ${key}\n`)
      return outer
    },
    restore(outer) {
      current = outer
      write(outer ? `b ${outer.id} ${Math.ceil(outer.timeoutMs)} ${outer.key}\n` : 'e\n')
    },
  }
}

/** What the supervisor knows from the records: the slice running now (when it was read), and each begun id. */
export interface SliceWatch {
  running?: Running & { at: number }
  /** Resolves once the pipe closed: after a worker's exit, every record it wrote has been read. */
  drained: Promise<void>
}

export function watchSliceRecords(stream: Readable | null | undefined, onBegin: (id: number) => void): SliceWatch {
  let markDrained!: () => void
  const watch: SliceWatch = { drained: new Promise((resolve) => { markDrained = resolve }) }
  if (!stream) { markDrained(); return watch }
  let tail = ''
  stream.setEncoding('latin1')
  stream.on('data', (chunk: string) => {
    const lines = (tail + chunk).split('\n')
    tail = lines.pop() ?? ''
    if (tail.length > 4096) tail = '' // not a record: nothing the worker writes is this long
    const at = Date.now()
    for (const line of lines) {
      if (line === 'e') { watch.running = undefined; continue }
      const m = /^b (\d+) (\d+) (\S+)$/.exec(line)
      if (!m) continue
      const id = Number(m[1])
      watch.running = { id, timeoutMs: Number(m[2]), key: m[3]!, at }
      if (id !== 0) onBegin(id)
    }
  })
  stream.once('close', () => markDrained())
  stream.once('error', () => markDrained())
  return watch
}
