// What a config generation is made of: the engine builds generation 1 (engine.ts), a reload builds the next aside
// and swaps it in (reload.ts); both read and write these records.
import type { ModuleInstance, Pipeline } from '@islet/sdk'
import type { AppConfig, ModuleDecl } from '../config/types.ts'
import type { Registry } from '../plugins/registry.ts'
import type { ModuleGraph } from './graph.ts'
import type { ServiceScope } from './services.ts'

export type ModuleState = 'pending' | 'created' | 'started' | 'failed' | 'skipped' | 'stopped'

export interface ModuleStatus {
  name: string
  type: string
  state: ModuleState
  /** The phase that failed, for `failed`. */
  phase?: 'create' | 'start' | 'stop'
  error?: { code: string; message: string }
  /** What a started module's `status()` answered (ModuleInstance.status). */
  detail?: unknown
}

/** One module of a config generation: its declaration, where it is in its lifecycle, and its instance. */
export interface ModuleRecord {
  decl: ModuleDecl
  status: ModuleStatus
  instance?: ModuleInstance
  /** What the failed phase threw, as a coded error (the original as its cause when it carried no ERR_* code). */
  failure?: Error
  /** Its engine services: their subscriptions end when it stops (or fails to create or start). */
  scope?: ServiceScope
  /** The service scopes of the compiled pipelines it was handed: kept alive while it is (see disposeGeneration). */
  holds?: ServiceScope[]
}

/** One config generation: its modules (in start order), and its pipelines compiled on first use. */
export interface ConfigGeneration {
  number: number
  config: AppConfig
  graph: ModuleGraph
  slots: Map<string, ModuleRecord>
  compiled: Map<string, Promise<Pipeline>>
  appliedAt: string
  /**
   * The types it was loaded with, when a reload brought other plugin versions (registry plugins: islet.lock);
   * unset: the engine's own registry.
   */
  registry?: Registry
}
