// The validated, frozen shape of an application config, as the loader hands it to the engine.
import type { SourceLocation } from './diagnostics.ts'

/** The config format versions this engine reads. */
export const SUPPORTED_API_VERSIONS = ['islet/v1'] as const
export type ApiVersion = (typeof SUPPORTED_API_VERSIONS)[number]

/** Names a config value references through `x-islet-ref` schema properties. */
export interface References {
  modules: string[]
  pipelines: string[]
  /** Components a step names (through `componentRef` properties). */
  components?: string[]
}

export interface ModuleDecl {
  name: string
  type: string
  description?: string
  /** Validated against the module type's schema, defaults filled, deep-frozen. */
  config: unknown
  dependsOn: string[]
  /** Modules and pipelines the config names (through `moduleRef`/`pipelineRef` properties). */
  refs: References
  /** Where `- name: …` of this module stands. */
  source: SourceLocation
  /** What the module reads when it starts beyond its config (its type's `inputs`), fingerprinted by content. */
  inputs?: ModuleInput[]
}

/** A file or folder a module reads on start; `fingerprint` changes whenever its content does. */
export interface ModuleInput {
  /** Absolute path. */
  path: string
  fingerprint: string
}

export interface StepCall {
  kind: 'step'
  name: string
  type: string
  /** Validated against the step type's schema, defaults filled, deep-frozen; may hold `${{ … }}` strings. */
  config: unknown
  refs: References
  source: SourceLocation
  /** The `do:` steps of a step whose type takes a block (`block: 'steps'`). */
  block?: StepDecl[]
  /** The `branches:` of a step whose type takes named blocks (`block: 'branches'`), in YAML order. */
  branches?: Record<string, StepDecl[]>
}

export interface StepBranch {
  kind: 'if'
  name: string
  /** A `${{ … }}` expression string. */
  condition: string
  then: StepDecl[]
  else: StepDecl[]
  source: SourceLocation
}

export type StepDecl = StepCall | StepBranch

export interface PipelineDecl {
  name: string
  description?: string
  steps: StepDecl[]
  source: SourceLocation
}

/** The per-invocation limits a component runs under (see runtime/components/limits.ts for defaults). */
export const LIMIT_NAMES = ['memoryMb', 'timeoutMs', 'cpuMs', 'hostCalls', 'inputBytes', 'outputBytes'] as const
export type LimitName = (typeof LIMIT_NAMES)[number]
export type Limits = Partial<Record<LimitName, number>>

/**
 * What a component may reach beyond `log` and `config`, one key per grantable capability (its folder under
 * runtime/sandbox/capabilities declares the grant's type and schema). Nothing is granted unless YAML says so.
 */
export type { ComponentGrants } from '../sandbox/capabilities/list.ts'
import type { ComponentGrants } from '../sandbox/capabilities/list.ts'

export interface ComponentDecl {
  /** What pipelines call it: YAML `name`, else the file name (or folder name for `index.ts`). */
  name: string
  /** Absolute path of the entry file. */
  file: string
  /** The folder of the `directory:` entry that found it (watch mode looks there for new components); unset for `file:`. */
  directory?: string
  /** App-set limits for this component (the component may lower them, never raise them). */
  limits: Limits
  grants: ComponentGrants
  /** Raw config from YAML; validated against the component's own `config` schema when it is loaded. */
  config: unknown
  /** Where the entry (`- file:` or `- directory:`) stands. */
  source: SourceLocation
  /** Where its `config:` stands (for errors found at load time), or the entry when there is none. */
  configSource: SourceLocation
  /**
   * Runs in a sandbox worker of its own from the start, whatever `sandbox.isolation` says: a deploy slot's code, which
   * whoever holds a deployer token wrote, never shares a worker (and a stall, crash or escape) with the app's components.
   */
  dedicated?: boolean
}

/**
 * A deploy slot (`components: - slot: pricing`): a named place deployed code fills, with the grants, limits and config
 * the app gives it. Empty until a version is promoted; its live version is then loaded like a `file:` component.
 */
export interface SlotDecl {
  /** What pipelines call it (the component namespace: a slot and a component never share a name). */
  name: string
  description?: string
  /** The ceiling of what deployed code may reach, and what it gets. */
  grants: ComponentGrants
  /** The limits deployed code runs under (the ceiling of what it may ask for). */
  limits: Limits
  /** The component's config, validated against the deployed code's own `config` schema. */
  config: unknown
  /** Scopes any of which may deploy, promote, roll back and invoke (default ['admin']). */
  deployers: string[]
  /** A deployment without examples is refused unless this is false (`examples: optional`). */
  examplesRequired: boolean
  /** Where the entry stands. */
  source: SourceLocation
}

export type SandboxIsolation = 'shared' | 'dedicated'

export interface SandboxConfig {
  /** Sandbox worker processes. */
  workers: number
  /**
   * `shared` (default): components share the `workers` processes, and one that stalls or crashes its worker runs in
   * a worker of its own from then on. `dedicated`: every component runs in a worker of its own from the start
   * (`workers` is then unused; each worker costs its idle RSS, see README).
   */
  isolation?: SandboxIsolation
  /** App-wide limits: defaults for every component, overridden per component. */
  limits: Limits
  quarantine: { breaches: number; windowMs: number; baseMs: number; maxMs: number }
}

/** A plugin an app loads through its `plugins:` list (see runtime/config/plugins.ts). */
export interface PluginDecl {
  /** The plugin's own name and version, from its definePlugin(…). */
  name: string
  version: string
  /** The entry as written: a path or a package name. */
  entry: string
  /** Absolute path of the module imported. */
  file: string
  /** The package.json that governs it, when there is one. */
  packageJson?: string
  /** sha256 of that module's text and of its package.json: a changed plugin on disk is a changed config. */
  fingerprint: string
  /** Where the `plugins:` entry stands. */
  source: SourceLocation
  /**
   * A registry plugin (the `plugins:` map, pinned by islet.lock): its folder is versioned by content, so a new
   * version is a new module URL and a config reload may load it (see engine/watch-config.ts).
   */
  locked?: boolean
}

export interface AppConfig {
  apiVersion: ApiVersion
  /** Absolute path of the root file. */
  file: string
  /** Every file loaded, root first, in import order. */
  files: string[]
  /** Plugins loaded through `plugins:` (the built-ins are not listed); their types are in the registry loaded with it. */
  plugins?: PluginDecl[]
  /** islet.lock next to the root file, when the app has registry plugins (the `plugins:` map): dev reloads on its change. */
  lockFile?: string
  modules: ModuleDecl[]
  pipelines: Record<string, PipelineDecl>
  components: ComponentDecl[]
  /** Deploy slots, in declaration order. */
  slots?: SlotDecl[]
  /** Absolute paths of the `directory:` entries' folders: watch mode reloads the config when entries come or go. */
  componentDirectories?: string[]
  sandbox: SandboxConfig
  /** sha256 over the loaded files' contents, the values interpolated into them, the component entries found and the
   * modules' inputs: equal hashes, nothing to reload. */
  hash: string
}
