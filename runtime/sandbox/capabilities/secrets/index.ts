// ctx.secrets: reads the granted secrets, by name, from the engine's environment; their values are redacted from
// everything the component's errors and logs carry.
import { defineCapability } from '../capability.ts'

/** Secret names as environment variables spell them. */
export const SECRET_NAME = '^[A-Z_][A-Z0-9_]*$'

export default defineCapability({
  name: 'secrets',
  doc: 'reads the granted secrets from the engine\'s environment; their values are redacted from errors and logs',
  ops: { 'secrets.get': [{ name: 'secret name', max: 256 }] },
  deniedAs: 'any secret',
  guest: { value: String.raw`freeze({ get: (name) => call(state, 'secrets.get', [Str(name)]) })` },
  grant: {
    schema: {
      type: 'array', default: [], description: 'Secrets it may read, from the engine\'s environment.',
      items: { type: 'string', pattern: SECRET_NAME, description: 'an environment variable name like PRICING_KEY' },
    },
    none: [] as string[],
    grants: (grant: string[] | undefined) => grant !== undefined && grant.length > 0,
  },
  cli: {
    flag: 'secret', type: 'string', usage: '[--secret NAME]',
    help: 'grant reading this secret from the environment (repeatable)',
    grant: (value) => Array.isArray(value) ? value : [],
  },
  host: () => import('./host.ts'),
})
