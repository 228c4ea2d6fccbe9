// The names expressions may use: the run's own variables (every trigger) and the trigger types' view variables.
import type { TriggerType } from '@islet/sdk'

/** What an expression may name beyond `input`, `meta`, `locals` and `steps`, from the registered trigger types. */
export interface Variables {
  /** View variable → its fixed fields (every trigger declaring it agrees on a record with these), or undefined. */
  readonly view: ReadonlyMap<string, readonly string[] | undefined>
  /** Block variables (foreach's `item`) → the step types declaring them: outside their block, a hint says where they live. */
  readonly blocks?: ReadonlyMap<string, readonly string[]>
}

/** No trigger's variables: only what every run has. */
export const NEUTRAL: Variables = Object.freeze({ view: new Map() })

/**
 * The view variables of `triggers`. A variable two triggers declare keeps fixed fields only when both fix them
 * (their union): the loader's per-trigger check says which trigger lacks a variable, not this table.
 */
export function variablesOf(triggers: Iterable<TriggerType>): Variables {
  const view = new Map<string, readonly string[] | undefined>()
  for (const trigger of triggers) {
    for (const name of trigger.variables ?? []) {
      const fields = trigger.fields?.[name]
      if (!view.has(name)) view.set(name, fields)
      else {
        const known = view.get(name)
        view.set(name, known && fields ? [...new Set([...known, ...fields])] : undefined)
      }
    }
  }
  return { view }
}
