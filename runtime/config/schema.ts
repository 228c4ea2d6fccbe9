// The JSON Schema of a config file: the engine's own (structure only) and the whole-app one editors complete from.
import { SERVICE_NAMES, type JsonSchema, type ModuleType, type StepType } from '@islet/sdk'
import type { Registry } from '../plugins/registry.ts'
import { COMPONENT_DEFINITIONS, COMPONENT_EDITOR_RULES, GRANT_DEFINITIONS } from './component-schema.ts'
import { SUPPORTED_API_VERSIONS } from './types.ts'

export const SCHEMA_ID = 'https://islet.dev/schema/islet.schema.json'
const DRAFT_07 = 'http://json-schema.org/draft-07/schema#'

/** Module and pipeline names: usable in URLs, logs and metric labels as they are. */
export const DECL_NAME = '^[a-zA-Z][a-zA-Z0-9_-]*$'
/** Step names are identifiers, so `steps.<name>` works in runtime expressions. */
export const STEP_NAME = '^[A-Za-z_][A-Za-z0-9_]*$'

const text = (description: string) => ({ type: 'string', description })
// Checked here, at the value's line, rather than when a registry is first asked (which a run from the lock never does).
/** What a `registries:` value must be: 'embedded' or an http(s) URL. */
export const REGISTRY_URL = '^(embedded|https?://[^\\s/?#@]+(/[^\\s?#]*)?)$'
const registryUrl = (description: string) =>
  ({ type: 'string', pattern: REGISTRY_URL, description: `${description}: 'embedded', or an http(s) URL such as http://127.0.0.1:4873/` })
/** An npm package name (scoped or not), as npm's rules allow new ones. */
export const PLUGIN_NAME = '^(@[a-z0-9~][a-z0-9._~-]*/)?[a-z0-9~][a-z0-9._~-]*$'
const PLUGIN_STRING = "'./path' (relative to this file, inside the app folder) or a package name installed in the app " +
  "folder's node_modules; use the object form { package | path, version } to require a version range."

/**
 * The structure of one file, without what plugins contribute (module and step `config` are checked against their
 * types' schemas separately, with better locations). `apiVersion` is checked in code, before this schema runs.
 */
export const FILE_SCHEMA = {
  $schema: DRAFT_07,
  type: 'object',
  additionalProperties: false,
  properties: {
    apiVersion: text(`The config format version: ${SUPPORTED_API_VERSIONS.join(', ')}.`),
    imports: {
      type: 'array', description: 'More config files to load, relative to this one; each must lie inside the app folder (the folder of the root file).',
      items: { type: 'string', minLength: 1 },
    },
    plugins: {
      // The list form (paths and installed packages) or the map form (registry plugins by semver range, islet.lock).
      if: { type: 'array' },
      then: {
        type: 'array', items: { $ref: '#/definitions/plugin' },
        description: 'Plugins beyond the built-in ones, loaded before any module or step type is checked. Plugins run in ' +
          'the engine process with its rights: list only code you trust.',
      },
      else: {
        type: 'object', description: 'Registry plugins by semver range, pinned by islet.lock next to the app. Components ' +
          'run sandboxed with the grants their components: entry gives; host code loads only with host: true.',
        propertyNames: { pattern: PLUGIN_NAME, description: 'an npm package name, e.g. @acme/geo' },
        additionalProperties: { $ref: '#/definitions/registryPlugin' },
      },
    },
    modules: { type: 'array', description: 'The modules of the application.', items: { $ref: '#/definitions/module' } },
    pipelines: {
      type: 'object', description: 'Named pipelines: ordered steps that routes and other triggers run.',
      propertyNames: { pattern: DECL_NAME, description: "a letter, then letters, digits, '-' or '_'" },
      additionalProperties: { $ref: '#/definitions/pipeline' },
    },
    components: {
      type: 'array', description: 'Sandboxed TypeScript components, by file or by directory.',
      items: { $ref: '#/definitions/component' },
    },
    // No default here: whether a file declares it matters (at most one may), so the loader fills it in.
    sandbox: { $ref: '#/definitions/sandbox' },
    registries: {
      type: 'object', description: "Where registry plugins come from: default (else 'embedded', the registry in the data " +
        'directory) and per scope (@acme): a scope bound to a registry is never fetched from another.',
      propertyNames: { pattern: '^(default|@[a-z0-9~][a-z0-9._~-]*)$', description: 'default, or an npm scope such as @acme' },
      additionalProperties: { $ref: '#/definitions/registry' },
    },
  },
  definitions: {
    ...COMPONENT_DEFINITIONS,
    // A plugin is a string (a path when it starts with `.` or `/`, else a package name) or the object form.
    plugin: {
      if: { type: 'string' },
      then: { type: 'string', minLength: 1, description: PLUGIN_STRING },
      else: { $ref: '#/definitions/pluginEntry' },
    },
    pluginEntry: {
      // Exactly one of package and path (checked by config/plugins.ts: ajv's strict mode refuses `required` in a oneOf).
      type: 'object', additionalProperties: false, minProperties: 1,
      properties: {
        package: text("A package installed in the app folder's node_modules (resolved as Node resolves an import from there, package.json \"exports\" honoured), e.g. @acme/islet-ratelimit."),
        path: text('A file or folder relative to this file, inside the app folder, e.g. ./plugins/ratelimit.'),
        version: text("A semver range the plugin's own version must satisfy, e.g. ^1.2.0."),
      },
    },
    registryPlugin: {
      if: { type: 'string' },
      then: { type: 'string', minLength: 1, description: 'A semver range, e.g. ^1.2.0: components and YAML only, nothing runs in the engine.' },
      else: {
        type: 'object', additionalProperties: false, required: ['version'],
        properties: {
          version: text('A semver range, e.g. ^1.2.0.'),
          host: { type: 'boolean', default: false,
            description: 'Allow its host code (module, step and trigger types), which runs in the engine process with its rights. Review the package first.' },
          services: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...SERVICE_NAMES] },
            description: 'The engine services its host code may use; a package that asks for more is refused.' },
          registry: registryUrl('the registry to fetch it from, overriding registries:'),
        },
      },
    },
    registry: {
      if: { type: 'string' },
      then: registryUrl('a registry'),
      else: {
        type: 'object', additionalProperties: false, required: ['url'],
        properties: { url: registryUrl('the registry'), token: text('A token for it, e.g. ${ACME_TOKEN}.') },
      },
    },
    module: {
      type: 'object', additionalProperties: false, required: ['name', 'type'],
      properties: {
        name: { type: 'string', pattern: DECL_NAME, description: "a letter, then letters, digits, '-' or '_'" },
        type: text('The module type, provided by a plugin, e.g. http.server.'),
        description: text('What this module is for.'),
        dependsOn: {
          type: 'array', uniqueItems: true, description: 'Modules started before this one.',
          items: { type: 'string', minLength: 1 },
        },
        config: { type: 'object', description: "The module's configuration, checked against its type's schema." },
      },
    },
    pipeline: {
      type: 'object', additionalProperties: false, required: ['steps'],
      properties: { description: text('What this pipeline does.'), steps: { $ref: '#/definitions/steps' } },
    },
    steps: { type: 'array', items: { $ref: '#/definitions/step' } },
    // A branch is recognised by its `if:` key; anything else is a step call. No anyOf: its errors would be noise.
    step: {
      type: 'object',
      if: { type: 'object', required: ['if'], properties: { if: true } },
      then: { $ref: '#/definitions/branch' },
      else: { $ref: '#/definitions/call' },
    },
    call: {
      type: 'object', additionalProperties: false, required: ['type'],
      properties: {
        name: { type: 'string', pattern: STEP_NAME, description: "a letter or '_', then letters, digits or '_'" },
        type: text('The step type, provided by a plugin, e.g. validate.'),
        config: { type: 'object', description: "The step's configuration, checked against its type's schema." },
        do: { $ref: '#/definitions/steps', description: 'The block of a block step (foreach, retry, timeout, sql.transaction): steps it runs, each item, attempt or once.' },
        branches: {
          type: 'object', minProperties: 1, description: 'The named blocks of a parallel step: branch name → steps; its output is keyed by branch name.',
          propertyNames: { pattern: STEP_NAME, description: "a letter or '_', then letters, digits or '_'" },
          additionalProperties: { $ref: '#/definitions/steps' },
        },
      },
    },
    branch: {
      type: 'object', additionalProperties: false, required: ['if', 'then'],
      properties: {
        if: text('A condition, exactly one runtime expression: ${{ body.qty > 10 }}.'),
        name: { type: 'string', pattern: STEP_NAME, description: "a letter or '_', then letters, digits or '_'" },
        then: { $ref: '#/definitions/steps' },
        else: { $ref: '#/definitions/steps' },
      },
    },
  },
} as const satisfies JsonSchema

/**
 * The whole-app schema (draft-07) for editors and `islet schema`: the file structure, `apiVersion` pinned, and each
 * registered module and step type's config schema applied by `type`.
 */
export function combinedSchema(registry: Registry): JsonSchema {
  const modules = registry.moduleTypes().map((r) => r.definition)
  const steps = registry.stepTypes().map((r) => r.definition)
  const defs = FILE_SCHEMA.definitions
  return {
    ...FILE_SCHEMA,
    $id: SCHEMA_ID,
    title: 'Islet application config',
    required: ['apiVersion'],
    properties: {
      ...FILE_SCHEMA.properties,
      apiVersion: { ...FILE_SCHEMA.properties.apiVersion, enum: [...SUPPORTED_API_VERSIONS] },
    },
    definitions: {
      ...defs,
      // Limits, grants and sandbox settings are integers and booleans a file may well take from ${VAR}.
      ...(acceptEnvReferences({ definitions: { limits: defs.limits, grants: defs.grants, ...GRANT_DEFINITIONS,
        sandbox: defs.sandbox } }) as { definitions: Record<string, JsonSchema> }).definitions,
      component: { ...defs.component, ...COMPONENT_EDITOR_RULES },
      module: byType(defs.module, modules, 'module'),
      call: byType(defs.call, steps, 'step'),
    },
  }
}

/** `type` limited to the registered ones, and `config` checked by that type's schema. */
function byType(base: JsonSchema & { properties: Record<string, JsonSchema> }, types: (ModuleType | StepType)[],
  kind: 'module' | 'step'): JsonSchema {
  const enumerated = types.length ? { enum: types.map((t) => t.type) } : {}
  return {
    ...base,
    properties: { ...base.properties, type: { ...base.properties.type, ...enumerated } },
    allOf: types.map((t) => ({
      if: { required: ['type'], properties: { type: { const: t.type } } },
      then: {
        ...(t.description ? { description: t.description } : {}),
        properties: { config: { title: t.type, ...(t.description ? { description: t.description } : {}),
          ...embed(t.configSchema, `${kind}/${t.type}`) } },
      },
    })),
  }
}

/**
 * A plugin's schema placed inside ours. Its own `$schema` goes (only the root may declare one) and, when it uses
 * local `#/…` references, it gets an `$id` so they resolve inside it rather than against our root.
 */
function embed(schema: JsonSchema, name: string): JsonSchema {
  const { $schema: _, ...rest } = acceptEnvReferences(schema) as JsonSchema
  const hasLocalRef = JSON.stringify(rest).includes('"$ref":"#')
  return hasLocalRef && rest.$id === undefined ? { $id: `${SCHEMA_ID.replace(/[^/]*$/, '')}types/${name}.json`, ...rest } : rest
}

/** What an editor sees where `port: ${PORT:-8080}` stands: a string the loader turns into the number. */
const ENV_REFERENCE = {
  type: 'string', pattern: '^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:[-?][^}]*)?\\}$',
  description: 'an environment variable, ${NAME} or ${NAME:-default}, typed when the config is loaded',
}
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions'])
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'items'])
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'additionalItems', 'contains', 'then', 'else'])

/**
 * The loader interpolates before it validates, so an editor must accept `${VAR}` wherever a number or boolean may
 * stand, or every `port: ${PORT}` would be flagged. Wraps such subschemas in `anyOf: [schema, ENV_REFERENCE]`.
 */
function acceptEnvReferences(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (SCHEMA_LISTS.has(key) && Array.isArray(value)) out[key] = value.map(acceptEnvReferences)
    else if (SCHEMA_VALUES.has(key)) out[key] = acceptEnvReferences(value)
    else if (SCHEMA_MAPS.has(key) && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, acceptEnvReferences(v)]))
    } else out[key] = value
  }
  const types = [out.type].flat()
  if (types.includes('string') || !types.some((t) => t === 'integer' || t === 'number' || t === 'boolean')) return out
  const { title, description, default: fallback, ...rest } = out
  return { ...(title === undefined ? {} : { title }), ...(description === undefined ? {} : { description }),
    ...(fallback === undefined ? {} : { default: fallback }), anyOf: [rest, ENV_REFERENCE] }
}
