// Plugins: a versioned package of module types, step types and triggers, and the engine services they use.
import type { ModuleType } from './module.ts'
import type { StepType } from './pipeline.ts'
import type { ServiceName } from './services.ts'
import type { TriggerType } from './trigger.ts'
import type { ExpressionFunction } from './expression.ts'
import type { AppView } from './app-check.ts'

export interface Plugin {
  /** Package-style name, e.g. `http` for a built-in or `@acme/geo` for a third party. */
  readonly name: string
  /** Semver of the plugin. */
  readonly version: string
  readonly description?: string
  /** Semver range of the Islet engine this plugin works with, e.g. `^0.1.0`; checked at registration. */
  readonly islet?: string
  /** Each module type has its own config and instance types, hence `any` here. */
  readonly moduleTypes?: readonly ModuleType<any, any>[]
  readonly stepTypes?: readonly StepType[]
  /** Kinds of pipeline run its module types start (see TriggerType). */
  readonly triggers?: readonly TriggerType[]
  /**
   * The engine services its module and step types use through `ctx.service(name)`; registration refuses an unknown
   * name, and `ctx.service` refuses one not listed here.
   */
  readonly services?: readonly ServiceName[]
  /** Pure functions pipelines call in `${{ … }}` as `area.name(…)` (see sdk/expression.ts). */
  readonly functions?: readonly ExpressionFunction[]
  /**
   * Checks the app as a whole, once per load, whichever of the plugin's types it uses (e.g. components granted a
   * topic nothing subscribes to). Each problem reported must say `at` which declaration it is.
   */
  checkApp?(app: AppView): void
}

/**
 * Identity helper for a plugin declaration.
 * @example export default definePlugin({ name: 'geo', version: '1.0.0', islet: '^0.1.0', moduleTypes: [geocoder] })
 */
export function definePlugin<P extends Plugin>(plugin: P): P {
  return plugin
}
