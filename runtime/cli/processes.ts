// `islet run --processes <n|auto>`: how many engine processes serve the app, and which one this is. Parsed here,
// apart from the primary (primary.ts) and the engine (run.ts), so that a usage error loads neither.
import { availableParallelism } from 'node:os'
import type { EngineProcessView } from '@islet/sdk'

/** More than this is a typo, not a machine: each engine process costs ~100 MB before any component. */
export const MAX_PROCESSES = 256

/** `--processes`: a whole number from 1 to MAX_PROCESSES, or `auto` (one per core the OS gives this process). */
export function parseProcessCount(text: string | undefined): number | { error: string } {
  if (text === undefined) return 1
  if (text === 'auto') return availableParallelism()
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN
  if (Number.isInteger(n) && n >= 1 && n <= MAX_PROCESSES) return n
  return { error: `--processes must be a whole number from 1 to ${MAX_PROCESSES}, or 'auto' (one per core: ${availableParallelism()} here), not '${text}'` }
}

/** The environment the primary gives each engine process; the app's YAML may interpolate it (`${ISLET_PROCESS_INDEX}`). */
export const PROCESS_INDEX_ENV = 'ISLET_PROCESS_INDEX'
export const PROCESS_COUNT_ENV = 'ISLET_PROCESSES'

export const BALANCE_ENV = 'ISLET_BALANCE'

/** Which of the app's engine processes this is (the sdk's view of it, `ctx.engine.process`). */
export type EngineProcess = EngineProcessView
export type Balance = EngineProcessView['balance']

/** This process's place, when a primary (primary.ts) forked it; read from what the primary put in its environment. */
export function engineProcessOf(env: NodeJS.ProcessEnv, isClusterWorker: boolean): EngineProcess | undefined {
  if (!isClusterWorker) return undefined
  const index = Number(env[PROCESS_INDEX_ENV])
  const count = Number(env[PROCESS_COUNT_ENV])
  const balance = env[BALANCE_ENV] === 'reuseport' ? 'reuseport' : 'cluster'
  return Number.isInteger(index) && Number.isInteger(count) ? { index, count, balance } : undefined
}

/** Messages between the primary and an engine process (cluster IPC). */
export type PrimaryMessage = { type: 'islet:stop' } | { type: 'islet:stop-now' }
export type EngineMessage = { type: 'islet:ready'; url?: string } | { type: 'islet:start-failed' }

export function isMessage<T extends { type: string }>(value: unknown, type: T['type']): value is T {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type
}
