// The plugin registry: an instance (fresh per engine and per test) mapping module and step type names to plugins.
// Three functions, not the whole package: `islet validate` loads this, and semver's index is 47 modules.
import satisfies from 'semver/functions/satisfies.js'
import valid from 'semver/functions/valid.js'
import validRange from 'semver/ranges/valid.js'
import { RUN_VARIABLES, SERVICE_NAMES, type ExpressionFunction, type ModuleType, type Plugin, type StepType, type TriggerType } from '@islet/sdk'
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
  /** Expression functions plugins registered (`area.name`): the loader and the pipeline compiler resolve calls in them. */
  functions(): Registered<ExpressionFunction>[]
  /** The trigger type runs name as `trigger` (see sdk/trigger.ts). */
  triggerType(name: string): Registered<TriggerType> | undefined
  triggerTypes(): Registered<TriggerType>[]
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
/** `area.name`: identifiers an expression can spell, and always dotted, so no plugin function shadows a built-in. */
const FUNCTION_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/

/** An expression function's shape (sdk/expression.ts): its name, arity and call. */
function checkFunction(id: string, f: ExpressionFunction): void {
  const bad = (why: string) => new IsletError('ERR_PLUGIN_INVALID', `${id}: expression function '${String(f?.name)}' ${why}`)
  if (typeof f?.name !== 'string' || !FUNCTION_NAME.test(f.name)) {
    throw bad("must be named '<area>.<name>' in lower case (letters, digits, '_'), e.g. 'geo.distance': a bare name would shadow the built-in functions")
  }
  if (typeof f.call !== 'function') throw bad('has no call()')
  const max = f.maxArgs ?? f.minArgs
  if (!Number.isInteger(f.minArgs) || f.minArgs < 0 || !Number.isInteger(max) || max < f.minArgs || max > 16) {
    throw bad(`has minArgs ${f.minArgs} and maxArgs ${f.maxArgs}: integers, 0 <= minArgs <= maxArgs <= 16`)
  }
}

export function createRegistry(options: RegistryOptions = {}): Registry {
  const engineVersion = options.engineVersion ?? ENGINE_VERSION
  const catalogue = options.catalogue ?? {}
  const moduleTypes = new Map<string, Registered<ModuleType>>()
  const stepTypes = new Map<string, Registered<StepType>>()
  const functions = new Map<string, Registered<ExpressionFunction>>()
  const triggerTypes = new Map<string, Registered<TriggerType>>()
  const plugins = new Set<Plugin>()

  function check(plugin: Plugin): void {
    const id = `${plugin.name}@${plugin.version}`
    if (!plugin.name || !valid(plugin.version)) {
      throw new IsletError('ERR_PLUGIN_INVALID', `plugin ${id} needs a name and a semver version`)
    }
    if (plugin.islet !== undefined) {
      if (!validRange(plugin.islet)) {
        throw new IsletError('ERR_PLUGIN_INVALID', `plugin ${id} declares islet '${plugin.islet}', not a semver range`)
      }
      if (!satisfies(engineVersion, plugin.islet, { includePrerelease: true })) {
        throw new IsletError('ERR_PLUGIN_ENGINE_MISMATCH',
          `${id} needs islet ${plugin.islet}, this is islet ${engineVersion}`,
          { details: { plugin: plugin.name, version: plugin.version, needs: plugin.islet, engine: engineVersion } })
      }
    }
    checkEntries(plugin, id)
    const seen = new Set<string>()
    const claim = (kind: string, type: string, table: Map<string, Registered<unknown>>) => {
      if (kind !== 'function' && !TYPE_NAME.test(type)) {
        throw new IsletError('ERR_PLUGIN_INVALID', `${id}: ${kind} type '${type}' must be lower-case dotted words`)
      }
      const owner = table.get(type)
      if (owner || seen.has(`${kind}:${type}`)) {
        const by = owner ? `${owner.plugin.name}@${owner.plugin.version}` : id
        throw new IsletError('ERR_PLUGIN_CONFLICT', `${id} registers ${kind}${kind === 'function' ? '' : ' type'} '${type}', already registered by ${by}`,
          { details: { type, plugin: plugin.name, registeredBy: by } })
      }
      seen.add(`${kind}:${type}`)
    }
    for (const m of plugin.moduleTypes ?? []) claim('module', m.type, moduleTypes)
    for (const s of plugin.stepTypes ?? []) claim('step', s.type, stepTypes)
    for (const f of plugin.functions ?? []) {
      checkFunction(id, f)
      claim('function', f.name, functions)
    }
    checkDeclarations(plugin, id)
    for (const t of plugin.triggers ?? []) {
      claim('trigger', t.name, triggerTypes)
      checkTrigger(id, t)
    }
  }

  return {
    engineVersion,
    register(plugin) {
      check(plugin)
      plugins.add(plugin)
      for (const m of plugin.moduleTypes ?? []) moduleTypes.set(m.type, { definition: m, plugin })
      for (const s of plugin.stepTypes ?? []) stepTypes.set(s.type, { definition: s, plugin })
      for (const f of plugin.functions ?? []) functions.set(f.name, { definition: f, plugin })
      for (const t of plugin.triggers ?? []) triggerTypes.set(t.name, { definition: t, plugin })
      return () => {
        for (const t of plugin.triggers ?? []) if (triggerTypes.get(t.name)?.plugin === plugin) triggerTypes.delete(t.name)
        plugins.delete(plugin)
        for (const m of plugin.moduleTypes ?? []) if (moduleTypes.get(m.type)?.plugin === plugin) moduleTypes.delete(m.type)
        for (const s of plugin.stepTypes ?? []) if (stepTypes.get(s.type)?.plugin === plugin) stepTypes.delete(s.type)
        for (const f of plugin.functions ?? []) if (functions.get(f.name)?.plugin === plugin) functions.delete(f.name)
      }
    },
    moduleType: (type) => moduleTypes.get(type),
    stepType: (type) => stepTypes.get(type),
    moduleTypes: () => [...moduleTypes.values()],
    stepTypes: () => [...stepTypes.values()],
    functions: () => [...functions.values()],
    triggerType: (name) => triggerTypes.get(name),
    triggerTypes: () => [...triggerTypes.values()],
    plugins: () => [...plugins],
    knownProvider: (type) => (moduleTypes.has(type) || stepTypes.has(type) ? undefined : catalogue[type]),
    fork() {
      const copy = createRegistry(options)
      for (const plugin of plugins) copy.register(plugin)
      return copy
    },
  }
}

/**
 * Each list entry is a declaration of its kind: a plugin written in JavaScript has no types to catch `stepTypes:
 * [{}]`, which would otherwise register under the name 'undefined' or fail later with a TypeError.
 */
function checkEntries(plugin: Plugin, id: string): void {
  const lists = [
    ['moduleTypes', 'module type', 'defineModuleType({ type, configSchema, create })', 'type'],
    ['stepTypes', 'step type', 'defineStepType({ type, configSchema, create })', 'type'],
    ['triggers', 'trigger type', 'defineTrigger({ name, variables })', 'name'],
  ] as const
  for (const [list, kind, make, key] of lists) {
    const entries: unknown = plugin[list] ?? []
    if (!Array.isArray(entries)) throw new IsletError('ERR_PLUGIN_INVALID', `${id}: ${list} must be a list`)
    entries.forEach((entry: unknown, i) => {
      const e = entry as Record<string, unknown> | null
      const ok = typeof e === 'object' && e !== null && typeof e[key] === 'string' && (list === 'triggers'
        ? e.variables === undefined || Array.isArray(e.variables)
        : typeof e.create === 'function' && typeof e.configSchema === 'object' && e.configSchema !== null)
      if (!ok) throw new IsletError('ERR_PLUGIN_INVALID', `${id}: ${list}[${i}] is not a ${kind}: make it with ${make}`)
    })
  }
}

/** The services a plugin lists must be ones the engine offers, and each `provides` entry a contract (see defineContract). */
function checkDeclarations(plugin: Plugin, id: string): void {
  const services: unknown = plugin.services ?? []
  if (!Array.isArray(services)) throw new IsletError('ERR_PLUGIN_INVALID', `${id}: services must be a list of service names (${SERVICE_NAMES.join(', ')})`)
  for (const name of services) {
    if (!SERVICE_NAMES.includes(name)) {
      throw new IsletError('ERR_PLUGIN_INVALID', `${id} declares the service '${String(name)}', which the engine does not offer; services: ${SERVICE_NAMES.join(', ')}`,
        { details: { plugin: plugin.name, service: String(name) } })
    }
  }
  for (const m of plugin.moduleTypes ?? []) {
    for (const c of (m.provides ?? []) as unknown[]) {
      const contract = c as { name?: unknown; members?: unknown } | undefined
      if (typeof contract?.name !== 'string' || typeof contract.members !== 'object' || contract.members === null) {
        throw new IsletError('ERR_PLUGIN_INVALID', `${id}: module type '${m.type}' lists something in provides that is not a contract; make each with defineContract()`)
      }
    }
  }
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** A trigger's variables are expression names: identifiers, none of the run's own, each fixed-fields entry one of them. */
function checkTrigger(id: string, trigger: TriggerType): void {
  const variables = trigger.variables ?? []
  for (const name of variables) {
    const problem = !VARIABLE_NAME.test(name) ? 'is not an identifier'
      : RUN_VARIABLES.includes(name) ? `is a variable every run has (${RUN_VARIABLES.join(', ')})`
      : variables.indexOf(name) !== variables.lastIndexOf(name) ? 'is listed twice' : undefined
    if (problem) throw new IsletError('ERR_PLUGIN_INVALID', `${id}: trigger type '${trigger.name}' variable '${name}' ${problem}`)
  }
  for (const name of Object.keys(trigger.fields ?? {})) {
    if (!variables.includes(name)) {
      throw new IsletError('ERR_PLUGIN_INVALID', `${id}: trigger type '${trigger.name}' gives fields for '${name}', which is not one of its variables`)
    }
  }
}
