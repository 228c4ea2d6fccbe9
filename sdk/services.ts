// Engine services: what the engine offers plugins beyond their own config. A plugin names the services it uses in
// `definePlugin({ services })`; `ctx.service(name)` hands out only those, to built-ins and third parties alike.
import type { AbortSignalLike } from './pipeline.ts'
import type { Logger } from './logger.ts'

/** One event on the engine's bus. */
export interface BusEvent {
  /** Dotted lower-case segments, e.g. `orders.created`; `islet.*` topics are the engine's own. */
  readonly topic: string
  readonly payload: unknown
  /** Who published it, e.g. `component:price-quote`, `module:audit`, `engine`. */
  readonly source: string
  /** ISO timestamp. */
  readonly at: string
}

/** The event bus: app events (components emit, modules publish) and the engine's own (`islet.config.*`, `islet.component.*`). */
export interface EventsService {
  /** Publishes under this module's or step's name as source. Topics outside the grammar are refused. */
  publish(topic: string, payload: unknown): void
  /**
   * Calls `handler` for every event whose topic matches `pattern` (a topic, or `prefix.*` for a subtree),
   * asynchronously. Subscriptions end by themselves when the module stops (or the step's config generation ends);
   * the returned function ends one earlier.
   */
  subscribe(pattern: string, handler: (event: BusEvent) => void | Promise<void>): () => void
}

export interface InvokeOptions {
  signal?: AbortSignalLike
  logger?: Logger
}

/** Calls components in their sandbox (the component must be declared in the app's `components:`). */
export interface ComponentsService {
  /** Whether the app declares a component of this name. */
  has(name: string): boolean
  /** Runs the component's handler with `input` (JSON) under its limits and grants; resolves with its output. */
  invoke(name: string, input: unknown, options?: InvokeOptions): Promise<unknown>
}

/** A read-only view of the running engine, as the admin API shows it. */
export interface StatusService {
  /** Engine state, config generation, modules and components (a JSON value). */
  status(): unknown
}

/** Every service by name. */
export interface Services {
  events: EventsService
  components: ComponentsService
  status: StatusService
}

export type ServiceName = keyof Services

/** The services a plugin may declare, as a list for checks. */
export const SERVICE_NAMES: readonly ServiceName[] = ['events', 'components', 'status']
