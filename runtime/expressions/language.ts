// What the expressions of one app may name beyond the built-ins: the registered trigger types' view variables and
// the plugins' functions. Built once per registry and handed explicitly to every compile and check (no globals).
import { functionTable, NO_FUNCTIONS, type FunctionTable } from './expression-plugins.ts'
import { NEUTRAL, variablesOf, type Variables } from './variables.ts'
import type { Registry } from '../plugins/registry.ts'

export interface Language {
  readonly variables: Variables
  readonly functions: FunctionTable
}

/** Only what every run has and the built-in functions. */
export const NEUTRAL_LANGUAGE: Language = Object.freeze({ variables: NEUTRAL, functions: NO_FUNCTIONS })

/** The language of the expressions `registry`'s plugins make possible. */
export function languageOf(registry: Registry): Language {
  const blocks = new Map<string, string[]>()
  for (const { definition } of registry.stepTypes()) {
    for (const name of definition.blockVariables ?? []) blocks.set(name, [...blocks.get(name) ?? [], definition.type])
  }
  return { variables: { ...variablesOf(registry.triggerTypes().map((r) => r.definition)), blocks }, functions: functionTable(registry) }
}

/**
 * `language` with block variables (foreach's `item`, `index`) added: read from the view of the block's runs
 * (runtime/pipeline/block.ts), so they compile like a trigger's own; an inner block's shadow an outer one's.
 */
export function withBlockVariables(language: Language, names: readonly string[] | undefined): Language {
  if (!names?.length) return language
  const view = new Map(language.variables.view)
  for (const name of names) view.set(name, undefined)
  return { ...language, variables: { ...language.variables, view } }
}
