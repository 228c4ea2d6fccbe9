// The `islet` field of a plugin package's package.json: what the package provides and what it asks for. One shape,
// shared by the registry server (checked at publish), the client (resolution, verification) and the runtime (trust
// and grants). The JSON Schema and the checks live in manifest-check.ts.
import type { ServiceName } from '@islet/sdk'

/** What a component of the package asks for; the app's grants for it must cover every item (same shape as grants:). */
export interface RequestedCapabilities {
  kv?: boolean | Record<string, unknown>
  fetch?: readonly string[]
  emit?: readonly string[]
  secrets?: readonly string[]
  [capability: string]: unknown
}

export interface ComponentProvision {
  /** Package-relative path of the component's TypeScript entry (`components/geocode.ts`). */
  file: string
  description?: string
  /** The capabilities it needs to work; an app that grants less is refused with the list. */
  capabilities?: RequestedCapabilities
}

export interface IsletField {
  /** Semver range of the Islet engine the package works with. Required. */
  engine: string
  /**
   * Package-relative module exporting `definePlugin(…)`: module, step and trigger types and functions. Host code: it
   * loads only when the app's `plugins:` entry says `host: true` and the package's signature verifies.
   */
  host?: string
  /** Engine services its host code uses (`ctx.service(name)`); the app's entry must allow each. */
  services?: readonly ServiceName[]
  /** Sandboxed components, by name (the name an app's `components:` entry refers to). */
  components?: Readonly<Record<string, ComponentProvision>>
  /** Package-relative YAML files an app may import (`imports: ['@acme/geo/pipelines.yaml']`). */
  yaml?: readonly string[]
  /** Other plugins it needs, by semver range; resolved with the app's own ranges. */
  plugins?: Readonly<Record<string, string>>
}

/** The package.json of a plugin package, as far as Islet reads it. */
export interface PluginPackageJson {
  name: string
  version: string
  description?: string
  islet: IsletField
  [field: string]: unknown
}
