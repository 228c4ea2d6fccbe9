// The engine's side of ctx.secrets: each granted secret read from the environment once, when the component's
// capabilities are built (a missing one is a config error then, not a failed call later).
import { IsletError } from '../../../errors.ts'
import type { CapabilityDeps, CapabilityHost } from '../capability.ts'
import { deny, quoteGuest } from '../refusal.ts'

export function create(grant: string[] | undefined, name: string, deps: CapabilityDeps): CapabilityHost {
  const secrets = new Map<string, string>()
  for (const secret of grant ?? []) {
    const value = deps.env[secret]
    if (value === undefined || value === '') {
      throw new IsletError('ERR_COMPONENT_CONFIG_INVALID', `component '${name}' is granted secret ${secret}, but ${secret} is not set in the environment`,
        { details: { component: name, secret } })
    }
    secrets.set(secret, value)
  }
  return {
    ops: {
      'secrets.get'([secret]) {
        const value = typeof secret === 'string' ? secrets.get(secret) : undefined
        if (value === undefined) throw deny('secrets', 'not-granted', `component '${name}' is not granted secret ${quoteGuest(secret)}`)
        return value
      },
    },
    redact: [...secrets.values()],
  }
}
