// Triggers: what starts pipeline runs. HTTP is one; plugins register others (events, schedules, queues) the same way.
// A trigger type names a kind of run and the expression variables its runs carry; the modules that start those runs
// reference their pipelines with `pipelineRef(description, { trigger: '<name>' })`, so the config loader can check
// each pipeline's `${{ }}` expressions against the variables of every trigger that runs it.
import type { JsonSchema } from './schema.ts'

export interface TriggerType {
  /** Lower-case name, e.g. `http`, `event`, `schedule`; runs carry it as `trigger`. */
  readonly name: string
  readonly description?: string
  /**
   * Variables its runs expose to expressions beyond `input`, `meta`, `locals` and `steps` (HTTP: `body`, `params`,
   * `query`, `headers`, `request`), filled from the run's `view`.
   */
  readonly variables?: readonly string[]
  /**
   * For a variable whose value is a record with fixed fields, those fields: an expression naming another one is an
   * error when the config loads instead of a silent `undefined` (HTTP: `request` has `id`, `method`, `path`).
   */
  readonly fields?: Readonly<Record<string, readonly string[]>>
  /** JSON Schema of the run's `meta` (documentation and editor help). */
  readonly meta?: JsonSchema
}

/** The variables every run has, whatever its trigger; a trigger type cannot declare these names. */
export const RUN_VARIABLES: readonly string[] = ['input', 'meta', 'locals', 'steps']

/** Identity helper: returns its argument, typed. */
export function defineTrigger(trigger: TriggerType): TriggerType {
  return trigger
}
