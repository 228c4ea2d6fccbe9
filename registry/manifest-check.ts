// Checks a plugin package's package.json (and the file list of its tarball) before the registry accepts it, before
// `islet plugin pack` writes it and before the runtime loads it: the `islet` field's JSON Schema (ajv), then what a
// schema cannot say — name and version by npm's rules, ranges that parse, files that exist, no install scripts.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import semver from 'semver'
import { SERVICE_NAMES } from '@islet/sdk'
import { packageNameProblem } from './package-name.ts'

/** One thing wrong with a package, at a dotted path into its package.json (`islet.components.geocode.file`). */
export interface ManifestProblem {
  path: string
  message: string
  hint: string
}

const CAPABILITY_NAMES = ['kv', 'fetch', 'emit', 'secrets'] as const
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const
const strings = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true } as const

/** The JSON Schema of the `islet` field (see registry/manifest.ts for what each part means). */
export const ISLET_FIELD_SCHEMA = {
  type: 'object',
  required: ['engine'],
  additionalProperties: false,
  properties: {
    engine: { type: 'string', minLength: 1 },
    host: { type: 'string', minLength: 1 },
    services: { type: 'array', items: { enum: [...SERVICE_NAMES] }, uniqueItems: true },
    components: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_.-]*$' },
      additionalProperties: {
        type: 'object',
        required: ['file'],
        additionalProperties: false,
        properties: {
          file: { type: 'string', minLength: 1 },
          description: { type: 'string' },
          capabilities: {
            type: 'object',
            additionalProperties: false,
            properties: {
              kv: { anyOf: [{ type: 'boolean' }, { type: 'object' }] },
              fetch: strings,
              emit: strings,
              secrets: strings,
            },
          },
        },
      },
    },
    yaml: strings,
    plugins: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
  },
} as const

export const PACKAGE_SCHEMA = {
  type: 'object',
  required: ['name', 'version', 'islet'],
  properties: { name: { type: 'string' }, version: { type: 'string' }, islet: ISLET_FIELD_SCHEMA },
} as const

// Compiled on first use, not on import. validateSchema off: PACKAGE_SCHEMA is this file's constant, checked against
// JSON Schema's meta-schema by manifest-check.test.ts; checking it again on every `islet run` of a locked app was
// half the compile (ajv compiles the meta-schema first), ~15-25 ms of each start.
/** How PACKAGE_SCHEMA is compiled (the runtime keeps a compiled copy on disk: runtime/config/manifest-validator.ts). */
export const MANIFEST_AJV_OPTIONS = { allErrors: true, strict: true, validateSchema: false } as const

let compiled: ValidateFunction | undefined
const validatePackage = (): ValidateFunction => (compiled ??= new Ajv(MANIFEST_AJV_OPTIONS).compile(PACKAGE_SCHEMA))

/**
 * Every problem with `pkg` (a parsed package.json) as a plugin package whose tarball holds `files` (package-relative
 * paths). Empty when it may be published and loaded. `options.validate`: PACKAGE_SCHEMA compiled with
 * MANIFEST_AJV_OPTIONS elsewhere (the runtime's stored copy), instead of compiling it here.
 */
export function checkManifest(pkg: unknown, files: Iterable<string>, options: { validate?: ValidateFunction } = {}): ManifestProblem[] {
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) {
    return [{ path: '', message: 'package.json is not a JSON object', hint: 'write package.json as an object with name, version and islet' }]
  }
  const problems: ManifestProblem[] = []
  const validate = options.validate ?? validatePackage()
  if (!validate(pkg)) problems.push(...(validate.errors ?? []).map(schemaProblem))
  const p = pkg as Record<string, unknown>
  const nameProblem = packageNameProblem(p.name)
  if (typeof p.name === 'string' && nameProblem) {
    problems.push({ path: 'name', message: `'${p.name}' is not a valid npm package name: ${nameProblem}`, hint: "use a lowercase, URL-safe name such as '@acme/geo'" })
  }
  if (typeof p.version === 'string' && semver.valid(p.version) !== p.version) {
    problems.push({ path: 'version', message: `'${p.version}' is not a semver version`, hint: "write it as MAJOR.MINOR.PATCH, e.g. '1.2.0'" })
  }
  const scripts = p.scripts
  if (typeof scripts === 'object' && scripts !== null) {
    for (const script of INSTALL_SCRIPTS) {
      if (script in scripts) {
        problems.push({ path: `scripts.${script}`, message: `install scripts are refused: '${script}' would run on every machine that installs the plugin`, hint: `remove scripts.${script}; ship built files in the tarball instead` })
      }
    }
  }
  const present = new Set(files)
  if (present.has('binding.gyp') || p.gypfile === true) {
    problems.push({ path: 'binding.gyp', message: 'native addons are refused: binding.gyp makes npm build code at install', hint: 'remove binding.gyp; plugins ship TypeScript components and JavaScript host code only' })
  }
  const islet = p.islet
  if (typeof islet === 'object' && islet !== null && !Array.isArray(islet)) problems.push(...checkIslet(islet as Record<string, unknown>, present))
  return problems
}

function checkIslet(islet: Record<string, unknown>, files: ReadonlySet<string>): ManifestProblem[] {
  const problems: ManifestProblem[] = []
  if (typeof islet.engine === 'string' && semver.validRange(islet.engine) === null) {
    problems.push({ path: 'islet.engine', message: `'${islet.engine}' is not a semver range`, hint: "name the Islet versions the plugin works with, e.g. '^0.1.0'" })
  }
  const file = (path: string, value: unknown): void => {
    if (typeof value !== 'string' || value === '') return
    const problem = filePathProblem(value, files)
    if (problem) problems.push({ path, ...problem })
  }
  file('islet.host', islet.host)
  if (typeof islet.host === 'string' && !/\.(js|mjs)$/.test(islet.host)) {
    problems.push({ path: 'islet.host', message: `host code '${islet.host}' is not a .js or .mjs file`, hint: 'Node does not strip types inside node_modules: build host code to JavaScript and point islet.host at it' })
  }
  if (typeof islet.components === 'object' && islet.components !== null) {
    for (const [name, component] of Object.entries(islet.components)) {
      const entry = (component ?? {}) as { file?: unknown }
      file(`islet.components.${name}.file`, entry.file)
    }
  }
  if (Array.isArray(islet.yaml)) islet.yaml.forEach((yaml, i) => file(`islet.yaml[${i}]`, yaml))
  if (typeof islet.plugins === 'object' && islet.plugins !== null) {
    for (const [name, range] of Object.entries(islet.plugins)) {
      const nameProblem = packageNameProblem(name)
      if (nameProblem) problems.push({ path: `islet.plugins.${name}`, message: `'${name}' is not a valid package name: ${nameProblem}`, hint: "name the plugin as published, e.g. '@acme/base'" })
      if (typeof range === 'string' && semver.validRange(range) === null) {
        problems.push({ path: `islet.plugins.${name}`, message: `'${range}' is not a semver range`, hint: "write a range such as '^1.0.0'" })
      }
    }
  }
  return problems
}

/** A package-relative path that must name a file of the tarball. */
function filePathProblem(value: string, files: ReadonlySet<string>): { message: string; hint: string } | undefined {
  const path = packageRelative(value)
  if (path === undefined) return { message: `'${value}' is not a path inside the package`, hint: "write a package-relative path such as 'components/geocode.ts'" }
  if (!files.has(path)) return { message: `'${value}' is not in the package`, hint: "add it to the package (check package.json's 'files' list) or fix the path" }
  return undefined
}

/** `./dist/plugin.js` → `dist/plugin.js`; undefined for an absolute path or one that climbs out. */
export function packageRelative(value: string): string | undefined {
  if (value.startsWith('/') || value.includes('\\') || /^[A-Za-z]:/.test(value)) return undefined
  const segments = value.split('/').filter((s) => s !== '' && s !== '.')
  if (segments.length === 0 || segments.includes('..')) return undefined
  return segments.join('/')
}

function schemaProblem(error: ErrorObject): ManifestProblem {
  const path = error.instancePath.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~')).join('.')
  const where = path === '' ? 'package.json' : path
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return { path: path === '' ? String(params.missingProperty) : `${path}.${String(params.missingProperty)}`, message: `${where} lacks '${String(params.missingProperty)}'`, hint: MISSING_HINTS[String(params.missingProperty)] ?? `add '${String(params.missingProperty)}'` }
    case 'additionalProperties':
      return { path: `${path}.${String(params.additionalProperty)}`, message: `${where} has an unknown key '${String(params.additionalProperty)}'`, hint: additionalHint(path) }
    case 'enum':
      return { path, message: `${where} ${error.message ?? 'is not allowed'}`, hint: `use one of: ${(params.allowedValues as unknown[]).join(', ')}` }
    default:
      return { path, message: `${where} ${error.message ?? 'is invalid'}`, hint: 'see the islet field in the plugin documentation (registry/manifest.ts)' }
  }
}

/** What to write for a field a plugin package cannot do without. */
const MISSING_HINTS: Record<string, string> = {
  engine: "add islet.engine, the Islet versions the plugin works with, e.g. '^0.1.0'",
  islet: 'a plugin package says what it provides: "islet": { "engine": "^0.1.0", "components": { "geocode": { "file": "components/geocode.ts" } } }',
}

function additionalHint(path: string): string {
  if (path === 'islet') return 'the islet field knows engine, host, services, components, yaml and plugins'
  if (path.endsWith('.capabilities')) return `a component may request ${CAPABILITY_NAMES.join(', ')}`
  return 'a component entry knows file, description and capabilities'
}
