// Module contracts: what a module type promises other modules, checked by the engine instead of duck-typed by callers.

/** The kind of value a contract member must be on an instance. */
export type MemberKind = 'function' | 'object' | 'string' | 'number' | 'boolean'

/**
 * A named interface a module type can provide (`provides: [sqlDatabase]`) and another module or step can ask for
 * (`ctx.module(ref, sqlDatabase)`). Contracts are compared by `name`, so two copies of the sdk (a third-party plugin
 * installed with its own) still agree. The engine checks an instance's members once, when it is created, and refuses
 * a reference to a module whose type does not provide the contract when the config loads (`moduleRef(…, contract)`)
 * or at startup (`ctx.module`).
 */
export interface Contract<T extends object = object> {
  /** Dotted lower-case name, e.g. `http.router`, `sql.database`. */
  readonly name: string
  readonly description?: string
  /** The members every instance must have, with their kind. */
  readonly members: Readonly<Record<string, MemberKind>>
  /** Carries `T` for type inference only; never set. */
  readonly __instance?: T
}

/**
 * Declares a contract.
 * @example export const clock = defineContract<{ now(): number }>('acme.clock', { now: 'function' })
 */
export function defineContract<T extends object>(
  name: string, members: { readonly [K in keyof T]?: MemberKind }, description?: string,
): Contract<T> {
  return Object.freeze({ name, members: Object.freeze({ ...members }) as Readonly<Record<string, MemberKind>>, ...(description ? { description } : {}) })
}
