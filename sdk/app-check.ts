// Whole-app checks: what no single config can say about itself (a transition's event the named machine lacks, an
// emitted topic nothing subscribes to, a queue nobody consumes). Module types, step types and plugins may declare
// `checkApp`; the config loader calls it once every declaration is checked on its own, with a read-only view of the
// app, and reports each problem at its file:line:col like any other diagnostic (`islet validate`, `--format json`).

/** Where a declaration stands in the app's YAML (1-based). */
export interface SourcePosition {
  readonly file: string
  readonly line: number
  readonly column: number
}

/** A module whose declaration and config are valid, with its config as validated (defaults filled). */
export interface AppModule {
  readonly kind: 'module'
  readonly name: string
  readonly type: string
  readonly config: unknown
  readonly source: SourcePosition
}

/** A step of a pipeline (blocks and `if` branches included) whose config is valid. */
export interface AppStep {
  readonly kind: 'step'
  readonly pipeline: string
  /** Its `name:`, or `<type>#<n>` (see StepContext.step). */
  readonly name: string
  readonly type: string
  readonly config: unknown
  readonly source: SourcePosition
}

/** A component or deploy slot and the grants the app gives it (e.g. `grants.emit`: topics it may publish). */
export interface AppComponent {
  readonly kind: 'component'
  readonly name: string
  /** A deploy slot: its code arrives later, so what it does with its grants is unknown now. */
  readonly slot: boolean
  readonly grants: Readonly<Record<string, unknown>>
  readonly source: SourcePosition
}

export type AppDeclaration = AppModule | AppStep | AppComponent

/** A place where a module or step names a module through a `moduleRef` property of its config. */
export interface AppReference {
  readonly from: AppModule | AppStep
  /** The property, inside `from`'s config (e.g. `['subscriptions', 0, 'durable', 'queue']`). */
  readonly path: readonly (string | number)[]
}

/** A problem a `checkApp` found. */
export interface AppProblem {
  /** Stable `ERR_*` code from the plugin's own catalogue; tools match it, never the message. */
  code: string
  /** The declaration the problem is in; default: the one whose `checkApp` runs (required in a plugin's `checkApp`). */
  at?: AppDeclaration
  /** Inside `at`: a module's or step's `config`, a component's entry (`['grants', 'emit', 0]`). */
  path: (string | number)[]
  /** The problem is the property name at `path`, not its value. */
  key?: boolean
  message: string
  /** How to fix it; for an unknown name, the names that would do. */
  hint?: string
  /** `error` (default): the app cannot work as written, the load fails. `warning`: reported, may well be intended. */
  severity?: 'error' | 'warning'
}

/** The app as `checkApp` sees it: read only, every list in declaration order. */
export interface AppView {
  /** The valid modules, of `type` only when given. */
  modules(type?: string): readonly AppModule[]
  /** The valid module named `name`; undefined when there is none (its reference is reported as unknown already). */
  module(name: string): AppModule | undefined
  /** The valid steps of every pipeline, of `type` only when given. */
  steps(type?: string): readonly AppStep[]
  components(): readonly AppComponent[]
  /** Every `moduleRef` property, in a valid module or step, that names the module `name`. */
  referencesTo(name: string): readonly AppReference[]
  report(problem: AppProblem): void
  /** `did you mean 'x'?` for the candidate the engine's own hints would pick as a likely typo of `input`, else undefined. */
  didYouMean(input: string, candidates: Iterable<string>): string | undefined
}
