// Forking a sandbox worker process (one place for its flags, stdio and environment), and the worker `islet run`
// forks before it loads the engine. A worker takes ~0.3 s to be ready (Node without its start-up snapshot,
// isolated-vm, type stripping without a compile cache), about as long as loading the engine's modules and the
// config: forked first, it starts meanwhile, on the other core, and the first sandbox that needs a worker adopts it.
// Imports nothing heavy, so that forking it early costs the engine next to nothing.
import { fork, type ChildProcess } from 'node:child_process'
import { createSliceFile, type SliceFile } from './slice-record.ts'
import { limitFileSize, workerExecArgv, workerScript } from './worker-process.ts'

export interface ForkedWorker {
  child: ChildProcess
  /** Its slice record (fd 4 in the worker). */
  slices: SliceFile
  /** Resolves when the worker has said it is ready. */
  said: Promise<void>
  /** Resolves once its file-size limit is set, or with why it could not be (no component is sent to it before). */
  limited: Promise<string | undefined>
}

/** Forks a worker: `script` with the permission flags (worker-process.ts), an empty environment, stderr piped. */
export function forkWorker(script: string = workerScript(), extraReads: readonly string[] = []): ForkedWorker {
  // An empty environment: workers need nothing from it, and secrets in it must not reach sandboxes.
  // fd 4 is the worker's slice record (slice-record.ts); stderr is read for V8's out-of-memory report.
  const slices = createSliceFile()
  // Permission model flags (worker-process.ts): the second wall, for the day guest code escapes its isolate.
  const child = fork(script, [], { execArgv: workerExecArgv(extraReads), serialization: 'json', stdio: ['ignore', 'inherit', 'pipe', 'ipc', slices.fd], env: {} })
  const said = new Promise<void>((resolve) => {
    const onMessage = (msg: { t?: unknown } | null) => {
      if (msg?.t !== 'ready') return // (sent on its own, never in a batch: worker.ts sendNow)
      child.off('message', onMessage)
      resolve()
    }
    child.on('message', onMessage)
  })
  return { child, slices, said, limited: limitFileSize(child.pid ?? 0) }
}

let early: ForkedWorker | undefined

/**
 * Forks the worker the engine's first sandbox will adopt (idempotent). Until adopted it does not keep the process
 * alive; one never adopted is killed by releaseEarlyWorker, or exits by itself when this process does (its channel
 * closes).
 */
export function forkEarlyWorker(): void {
  if (early) return
  early = forkWorker()
  const { child } = early
  child.unref()
  child.channel?.unref()
  child.stderr?.pipe(process.stderr)
  // The stderr pipe is a handle too: left referenced, an engine that never adopted the worker could not exit.
  ;(child.stderr as { unref?: () => void } | null)?.unref?.()
}

/** The early worker, if one was forked and is still alive; it is the caller's from now on. */
export function takeEarlyWorker(): ForkedWorker | undefined {
  const taken = early
  early = undefined
  if (!taken) return undefined
  const { child } = taken
  if (child.exitCode !== null || child.signalCode !== null || !child.connected) {
    taken.slices.close()
    return undefined
  }
  child.stderr?.unpipe(process.stderr)
  ;(child.stderr as { ref?: () => void } | null)?.ref?.()
  child.ref()
  child.channel?.ref()
  return taken
}

/** Kills the early worker if no sandbox adopted it (an app without components, or one that failed to load). */
export function releaseEarlyWorker(): void {
  const taken = takeEarlyWorker()
  if (!taken) return
  taken.child.kill('SIGKILL')
  taken.slices.close()
}
