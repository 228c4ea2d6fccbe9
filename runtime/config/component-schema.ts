// The JSON Schema of the `components:` and `sandbox:` sections, and the defaults it fills in.
import type { JsonSchema } from '@islet/sdk'
import type { ComponentGrants, SandboxConfig } from './types.ts'
import { CAPABILITY_LIST } from '../sandbox/capabilities/list.ts'

/** Component names end up in logs, metric labels and worker slots: lower-case, no surprises. */
export const COMPONENT_NAME = '^[a-z][a-z0-9-]*$'

/** Without a `sandbox:` section: one worker, limits left to the component runtime, and this quarantine policy. */
export const DEFAULT_SANDBOX: SandboxConfig = Object.freeze({
  workers: 1,
  isolation: 'shared',
  limits: Object.freeze({}),
  quarantine: Object.freeze({ breaches: 3, windowMs: 30_000, baseMs: 2_000, maxMs: 60_000 }),
})

/** The grantable capabilities (runtime/sandbox/capabilities/list.ts): each declares its `grants.<name>` schema. */
const GRANTABLE = CAPABILITY_LIST.flatMap((c) => c.grant ? [{ name: c.name, grant: c.grant }] : [])
/** The definitions the grants' schemas refer to (kvGrant, fetchGrant, origin, …). */
export const GRANT_DEFINITIONS: Readonly<Record<string, JsonSchema>> = Object.assign({}, ...GRANTABLE.map(({ grant }) => grant.definitions ?? {}))

/** Grants of a component whose entry has no `grants:`: each capability's `none` (absent when undefined). */
export const NO_GRANTS: ComponentGrants = Object.freeze(Object.fromEntries(
  GRANTABLE.flatMap(({ name, grant }) => grant.none === undefined ? [] : [[name, grant.none]]))) as ComponentGrants

const int = (minimum: number, maximum: number, description: string, fallback?: number) =>
  ({ type: 'integer', minimum, maximum, description, ...(fallback === undefined ? {} : { default: fallback }) })
const q = DEFAULT_SANDBOX.quarantine
const DAY_MS = 86_400_000
const MAX_IO_BYTES = 64 * 1024 * 1024

/** Definitions merged into the file schema's `definitions`. */
export const COMPONENT_DEFINITIONS = {
  component: {
    type: 'object', additionalProperties: false,
    description: 'One component file, every component in a directory, a component of a registry plugin, or a deploy slot; exactly one of file, directory, plugin (with component) or slot.',
    properties: {
      slot: { type: 'string', pattern: COMPONENT_NAME,
        description: 'A deploy slot of this name: empty until code is deployed to it and promoted (the admin API, islet deploy, MCP); pipelines call it like a component.' },
      description: { type: 'string', description: 'What the slot is for, shown to whoever deploys to it (describe, MCP).' },
      deployers: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true,
        description: "Scopes any of which may deploy, promote, roll back and invoke the slot's code (default ['admin'])." },
      examples: { type: 'string', enum: ['required', 'optional'],
        description: 'required (default): a deployment without examples is refused; optional: accepted.' },
      file: { type: 'string', minLength: 1, description: 'A component entry file, relative to this config file, inside the app folder.' },
      directory: { type: 'string', minLength: 1,
        description: 'A folder, relative to this config file, inside the app folder: each *.ts in it and each subfolder with an index.ts is a component.' },
      plugin: { type: 'string', minLength: 1, description: 'A registry plugin (listed in the plugins: map) whose component this is.' },
      component: { type: 'string', minLength: 1, description: "The component's name in that plugin's package.json islet.components." },
      name: { type: 'string', pattern: COMPONENT_NAME,
        description: "a lower-case letter, then lower-case letters, digits or '-'; defaults to the file (or folder) name, or the plugin's component name" },
      // Defaults sit beside the $ref: ajv fills them in only from the property that holds them.
      limits: { $ref: '#/definitions/limits', default: {} },
      grants: { $ref: '#/definitions/grants', default: NO_GRANTS },
      // No `default: {}`: it would land on directory entries too, where a config is refused (the loader fills it).
      config: { type: 'object',
        description: "The component's configuration (default {}), checked against the component's own schema when it is loaded." },
    },
  },
  limits: {
    type: 'object', additionalProperties: false,
    description: 'Per-invocation limits; unset ones take the component runtime\'s defaults.',
    properties: {
      memoryMb: int(8, 1024, 'Isolate heap limit in MiB.'),
      timeoutMs: int(1, 600_000, 'Wall-clock deadline of one invocation, host calls included.'),
      cpuMs: int(1, 600_000, 'CPU time one invocation may use.'),
      hostCalls: int(0, 100_000, 'Capability calls one invocation may make.'),
      inputBytes: int(1, MAX_IO_BYTES, 'Largest accepted input, as JSON bytes.'),
      outputBytes: int(1, MAX_IO_BYTES, 'Largest accepted output, as JSON bytes.'),
    },
  },
  grants: {
    type: 'object', additionalProperties: false,
    description: 'What the component may reach beyond log and config; nothing unless granted here.',
    properties: Object.fromEntries(GRANTABLE.map(({ name, grant }) => [name, grant.schema])),
  },
  ...GRANT_DEFINITIONS,
  sandbox: {
    type: 'object', additionalProperties: false,
    description: 'How components run: worker processes, app-wide limits, quarantine of misbehaving components.',
    properties: {
      workers: int(1, 16, 'Sandbox worker processes.', DEFAULT_SANDBOX.workers),
      isolation: {
        type: 'string', enum: ['shared', 'dedicated'], default: 'shared',
        description: 'shared: components share the worker processes, and one that stalls or crashes its worker gets a worker of its own from then on; dedicated: every component runs in a worker of its own from the start (more memory: one idle worker each).',
      },
      limits: { $ref: '#/definitions/limits', default: {} },
      quarantine: {
        type: 'object', additionalProperties: false, default: {},
        description: 'After `breaches` limit breaches within `windowMs`, refuse the component for baseMs, doubling up to maxMs.',
        properties: {
          breaches: int(1, 1000, 'Breaches that trigger a quarantine.', q.breaches),
          windowMs: int(1, DAY_MS, 'The window breaches are counted in.', q.windowMs),
          baseMs: int(1, DAY_MS, 'The first quarantine period.', q.baseMs),
          maxMs: int(1, DAY_MS, 'The longest quarantine period.', q.maxMs),
        },
      },
    },
  },
} as const satisfies Record<string, JsonSchema>

/** Editor-only additions: the loader checks these in code, with messages that say more than a schema can. */
export const COMPONENT_EDITOR_RULES = {
  // `properties: { x: true }` beside each `required` keeps ajv's strict mode satisfied that `x` is a known key.
  oneOf: [{ required: ['file'], properties: { file: true } }, { required: ['directory'], properties: { directory: true } },
    { required: ['plugin', 'component'], properties: { plugin: true, component: true } }, { required: ['slot'], properties: { slot: true } }],
  allOf: [
    { if: { required: ['directory'], properties: { directory: true } }, then: { properties: { name: false, config: false } } },
    { if: { not: { required: ['slot'] } }, then: { properties: { description: false, deployers: false, examples: false } } },
  ],
} as const satisfies JsonSchema
