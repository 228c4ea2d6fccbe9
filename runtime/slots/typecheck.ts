// The type check of deployed code: TypeScript 5.9's checker (typescript-checker) in a worker thread, so a check never
// blocks the engine's event loop and the parsed lib and sdk stay warm between deploys (typecheck-worker.ts). The
// worker starts with the first check and stays; it does not keep the process alive while idle.
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Diagnostic } from '@islet/sdk'
import type { TypecheckRequest, TypecheckResponse } from './typecheck-worker.ts'

const WORKER = new URL('./typecheck-worker.ts', import.meta.url)
const SDK_ENTRY = fileURLToPath(new URL('../../sdk/index.ts', import.meta.url))
const SDK_GLOBALS = fileURLToPath(new URL('../../sdk/globals.d.ts', import.meta.url))

export interface TypecheckResult {
  diagnostics: Diagnostic[]
  /** The checker's own time in the worker (what a warm check costs), and the whole round trip. */
  checkMs: number
  ms: number
  /** The checker failed (a bug, not the code's): the step reports it rather than passing silently. */
  error?: string
}

/**
 * How long one check may take. Deployed code is untrusted, and types can be written to keep the checker busy for a
 * very long time: past this the worker is stopped (the next check starts a fresh one) and the deploy is refused.
 */
export const TYPECHECK_TIMEOUT_MS = 30_000
/** The worker's heap cap: a type explosion fails the check, never the engine's memory. */
const WORKER_HEAP_MB = 768

interface Pending {
  request: TypecheckRequest
  timeoutMs: number
  timer?: ReturnType<typeof setTimeout>
  settle(response: TypecheckResponse): void
}

let worker: Worker | undefined
/** The worker warmTypecheck last warmed (a new worker after a crash or a timeout starts cold). */
let warmed: Worker | undefined
let seq = 0
/** Checks sent and not answered, whichever worker has them. */
const pending = new Map<number, Pending>()

function start(): Worker {
  const w = new Worker(WORKER, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } })
  w.unref()
  w.on('message', (response: TypecheckResponse) => finish(response.id, response))
  // A crash (out of memory, a checker bug): every check it had fails, reported as such; the next starts a new worker.
  const fail = (error: unknown) => {
    if (worker !== w) return
    worker = undefined
    const message = error instanceof Error ? error.message : `the type-check worker exited (code ${String(error)})`
    for (const id of [...pending.keys()]) finish(id, { id, diagnostics: [], ms: 0, error: message })
  }
  w.on('error', fail)
  w.on('exit', fail)
  return w
}

function finish(id: number, response: TypecheckResponse): void {
  const p = pending.get(id)
  if (!p) return
  pending.delete(id)
  clearTimeout(p.timer)
  if (pending.size === 0) worker?.unref()
  p.settle(response)
}

function send(p: Pending): void {
  worker ??= start()
  const w = worker
  clearTimeout(p.timer)
  p.timer = setTimeout(() => timedOut(p, w), p.timeoutMs)
  w.ref()
  w.postMessage(p.request)
}

/** The check ran past its time: refused; its worker is stopped, and the checks queued behind it go to a fresh one. */
function timedOut(p: Pending, w: Worker): void {
  finish(p.request.id, {
    id: p.request.id, ms: p.timeoutMs, diagnostics: [{
      code: 'ERR_COMPONENT_TYPE', severity: 'error', message: `the type check did not finish within ${p.timeoutMs} ms`,
      file: p.request.entry, line: null, column: null,
      hint: 'simplify the types: deeply recursive or conditional types keep the checker busy; annotate with plain types',
    }],
  })
  if (worker === w) worker = undefined
  void w.terminate()
  for (const other of pending.values()) send(other)
}

/** Type-checks `files` (paths relative to `root`, as deployed) with `entry` as the root file. */
export function typecheck(root: string, entry: string, files: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<TypecheckResult> {
  const started = performance.now()
  const id = ++seq
  const request: TypecheckRequest = { id, root, entry, files, sdkEntry: SDK_ENTRY, globals: SDK_GLOBALS }
  return new Promise((resolve) => {
    const p: Pending = {
      request, timeoutMs: options.timeoutMs ?? TYPECHECK_TIMEOUT_MS,
      settle: (response) => resolve({
        diagnostics: response.diagnostics, checkMs: response.ms, ms: performance.now() - started,
        ...(response.error ? { error: response.error } : {}),
      }),
    }
    pending.set(id, p)
    send(p)
  })
}

/**
 * Type-checks a component on disk: `entry` and the files it imports (`files`, absolute, e.g. a build's inputs); files
 * outside the entry's folder are left out. Diagnostics name files by absolute path, as the CLI's others do.
 */
export async function typecheckFiles(entry: string, files: readonly string[]): Promise<TypecheckResult> {
  const root = dirname(entry)
  const texts: Record<string, string> = {}
  for (const path of new Set([entry, ...files])) {
    const rel = relative(root, path)
    if (rel.startsWith('..') || isAbsolute(rel)) continue
    const text = await readFile(path, 'utf8').catch(() => undefined)
    if (text !== undefined) texts[rel.split(sep).join('/')] = text
  }
  const result = await typecheck(root, relative(root, entry).split(sep).join('/'), texts)
  return { ...result, diagnostics: result.diagnostics.map((d) => (d.file !== null && !isAbsolute(d.file) ? { ...d, file: join(root, d.file) } : d)) }
}

/**
 * Starts the worker and loads the checker, the lib and the sdk ahead of the first deploy (a check of a tiny component,
 * in memory only: the folder need not exist). The slots service may call it once serving, when the app has slots.
 */
export async function warmTypecheck(): Promise<void> {
  const result = await typecheck(fileURLToPath(new URL('./warm/', import.meta.url)), 'warm.ts', { 'warm.ts': "import { defineComponent } from '@islet/sdk'\nexport default defineComponent({ name: 'warm', execute: () => null })\n" })
  if (result.error) throw new Error(result.error)
  if (worker) warmed = worker
}

/** No worker; a worker (starting, or checking); a worker that warmTypecheck loaded the checker, lib and sdk into. */
export function typecheckState(): 'stopped' | 'cold' | 'warm' {
  return worker === undefined ? 'stopped' : warmed === worker ? 'warm' : 'cold'
}

/** Stops the worker (tests; an engine lets it go with the process). */
export async function stopTypecheck(): Promise<void> {
  const w = worker
  worker = undefined
  for (const id of [...pending.keys()]) finish(id, { id, diagnostics: [], ms: 0, error: 'the type check was stopped' })
  await w?.terminate()
}
