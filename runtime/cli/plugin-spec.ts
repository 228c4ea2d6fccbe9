// `<name>[@range]` as `islet plugin add` takes it: the name checked against npm's rules and the range parsed by
// semver, both before any registry is asked, so a typo is a usage error that says what is wrong and how to write it.
import semver from 'semver'
import { packageNameProblem } from '../../registry/package-name.ts'
import { IsletError } from '../errors.ts'

export interface PluginSpec { name: string; range?: string }

/** `name`, or a usage error saying why npm (and so the registry, registry/package-name.ts) would refuse it. */
export function checkPluginName(name: string): string {
  const problem = packageNameProblem(name)
  if (problem !== undefined) {
    const lower = name.toLowerCase()
    const hint = lower !== name && packageNameProblem(lower) === undefined ? ` (did you mean '${lower}'? npm names are lower case)` : ''
    throw new IsletError('ERR_CLI_USAGE', `'${name}' is not a plugin name: ${problem}; npm names are lower case letters, digits and - . _, optionally in a scope (@acme/geo), at most 214 characters${hint}`)
  }
  return name
}

/** `@acme/geo@^1.2.0` → { name: '@acme/geo', range: '^1.2.0' }; the `@` of a scope is not the version's. */
export function parsePluginSpec(spec: string): PluginSpec {
  const at = spec.indexOf('@', 1)
  const name = checkPluginName(at < 0 ? spec : spec.slice(0, at))
  if (at < 0) return { name }
  const range = spec.slice(at + 1)
  if (range === '' || semver.validRange(range) === null) {
    throw new IsletError('ERR_CLI_USAGE', `'${range}' in '${spec}' is not a semver range; write e.g. ${name}@^1.2.0, ${name}@~1.2, ${name}@1.2.3 or ${name}@'>=1.0.0 <2.0.0'`)
  }
  return { name, range }
}

/** `name@version` with an exact version (yank, unyank). */
export function parseExactSpec(spec: string, command: string): { name: string; version: string } {
  const { name, range } = parsePluginSpec(spec)
  if (range === undefined || semver.valid(range) === null) {
    throw new IsletError('ERR_CLI_USAGE', `islet ${command} needs one exact version: ${name}@1.2.3, not '${spec}'`)
  }
  return { name, version: semver.valid(range)! }
}
