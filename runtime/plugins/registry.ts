// The plugin registry: an instance (fresh per engine and per test) mapping module and step type names to plugins.
import semver from 'semver'
import type { ModuleType, Plugin, StepType } from '@islet/sdk'
import { IsletError } from '../errors.ts'
import { ENGINE_VERSION } from '../version.ts'

export interface Registered<T> {
  readonly definition: T
  readonly plugin: Plugin
}

export interface RegistryOptions {
  /** The engine version plugins' `islet` ranges are checked against. */
  engineVersion?: string
  /**
   * Types that plugins not loaded here are known to provide (type → plugin name), so an unknown type in YAML can
   * say which plugin to install.
   */
  catalogue?: Readonly<Record<string, string>>
}

export interface Registry {
  readonly engineVersion: string
  /** Registers every module and step type of `plugin`; returns the undo. Throws on engine mismatch or conflict. */
  register(plugin: Plugin): () => void
  moduleType(type: string): Registered<ModuleType> | undefined
  stepType(type: string): Registered<StepType> | undefined
  moduleTypes(): Registered<ModuleType>[]
  stepTypes(): Registered<StepType>[]
  plugins(): Plugin[]
  /** The plugin known to provide `type` when none registered here does. */
  knownProvider(type: string): string | undefined
  /**
   * A new registry with the same options and plugins, each registered again through register(). An app's own
   * plugins (its `plugins:` list) go into a fork, so the registry it was loaded against stays as it was built.
   */
  fork(): Registry
}

const TYPE_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/

export function createRegistry(options: RegistryOptions = {}): Registry {
  const engineVersion = options.engineVersion ?? ENGINE_VERSION
  const catalogue = options.catalogue ?? {}
  const moduleTypes = new Map<string, Registered<ModuleType>>()
  const stepTypes = new Map<string, Registered<StepType>>()
  const plugins = new Set<Plugin>()

  function check(plugin: Plugin): void {
    const id = `${plugin.name}@${plugin.version}`
    if (!plugin.name || !semver.valid(plugin.version)) {
      throw new IsletError('ERR_PLUGIN_INVALID', `plugin ${id} needs a name and a semver version`)
    }
    if (plugin.islet !== undefined) {
      if (!semver.validRange(plugin.islet)) {
        throw new IsletError('ERR_PLUGIN_INVALID', `plugin ${id} declares islet '${plugin.islet}', not a semver range`)
      }
      if (!semver.satisfies(engineVersion, plugin.islet, { includePrerelease: true })) {
        throw new IsletError('ERR_PLUGIN_ENGINE_MISMATCH',
          `${id} needs islet ${plugin.islet}, this is islet ${engineVersion}`,
          { details: { plugin: plugin.name, version: plugin.version, needs: plugin.islet, engine: engineVersion } })
      }
    }
    const seen = new Set<string>()
    const claim = (kind: string, type: string, table: Map<string, Registered<unknown>>) => {
      if (!TYPE_NAME.test(type)) {
        throw new IsletError('ERR_PLUGIN_INVALID', `${id}: ${kind} type '${type}' must be lower-case dotted words`)
      }
      const owner = table.get(type)
      if (owner || seen.has(`${kind}:${type}`)) {
        const by = owner ? `${owner.plugin.name}@${owner.plugin.version}` : id
        throw new IsletError('ERR_PLUGIN_CONFLICT', `${id} registers ${kind} type '${type}', already registered by ${by}`,
          { details: { type, plugin: plugin.name, registeredBy: by } })
      }
      seen.add(`${kind}:${type}`)
    }
    for (const m of plugin.moduleTypes ?? []) claim('module', m.type, moduleTypes)
    for (const s of plugin.stepTypes ?? []) claim('step', s.type, stepTypes)
  }

  return {
    engineVersion,
    register(plugin) {
      check(plugin)
      plugins.add(plugin)
      for (const m of plugin.moduleTypes ?? []) moduleTypes.set(m.type, { definition: m, plugin })
      for (const s of plugin.stepTypes ?? []) stepTypes.set(s.type, { definition: s, plugin })
      return () => {
        plugins.delete(plugin)
        for (const m of plugin.moduleTypes ?? []) if (moduleTypes.get(m.type)?.plugin === plugin) moduleTypes.delete(m.type)
        for (const s of plugin.stepTypes ?? []) if (stepTypes.get(s.type)?.plugin === plugin) stepTypes.delete(s.type)
      }
    },
    moduleType: (type) => moduleTypes.get(type),
    stepType: (type) => stepTypes.get(type),
    moduleTypes: () => [...moduleTypes.values()],
    stepTypes: () => [...stepTypes.values()],
    plugins: () => [...plugins],
    knownProvider: (type) => (moduleTypes.has(type) || stepTypes.has(type) ? undefined : catalogue[type]),
    fork() {
      const copy = createRegistry(options)
      for (const plugin of plugins) copy.register(plugin)
      return copy
    },
  }
}
