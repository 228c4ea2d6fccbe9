// The validated, frozen shape of an application config, as the loader hands it to the engine.
import type { SourceLocation } from './diagnostics.ts'

/** The config format versions this engine reads. */
export const SUPPORTED_API_VERSIONS = ['islet/v1'] as const
export type ApiVersion = (typeof SUPPORTED_API_VERSIONS)[number]

/** Names a config value references through `x-islet-ref` schema properties. */
export interface References {
  modules: string[]
  pipelines: string[]
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
}

export interface StepCall {
  kind: 'step'
  name: string
  type: string
  /** Validated against the step type's schema, defaults filled, deep-frozen; may hold `${{ … }}` strings. */
  config: unknown
  refs: References
  source: SourceLocation
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

export interface AppConfig {
  apiVersion: ApiVersion
  /** Absolute path of the root file. */
  file: string
  /** Every file loaded, root first, in import order. */
  files: string[]
  modules: ModuleDecl[]
  pipelines: Record<string, PipelineDecl>
  /** sha256 over the loaded files' contents and the values interpolated into them. */
  hash: string
}
