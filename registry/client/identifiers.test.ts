// The client takes the registry's name rule (registry/package-name.ts): a name the registry would never publish is
// never locked or fetched either.
import { describe, expect, it } from 'vitest'
import { packageNameProblem } from '../package-name.ts'
import { pluginNameProblem } from './identifiers.ts'

describe('pluginNameProblem', () => {
  it.each(['http', '~geo', '@acme/ge(o)', 'node_modules', '@acme/Geo', '../../x', '__proto__', '@acme/geo/extra'])(
    'refuses %s, saying why as the registry does', (name) => {
      const problem = pluginNameProblem(name)
      expect(problem).toContain(`${JSON.stringify(name)} is not a package name`)
      expect(problem).toContain(packageNameProblem(name))
    })

  it.each(['@acme/geo', 'islet-geo', 'a.b_c-d'])('accepts %s', (name) => {
    expect(pluginNameProblem(name)).toBeUndefined()
  })
})
