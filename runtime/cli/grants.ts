// The grant flags of `islet component test` and how they become a component's grants: the one place that maps a
// command-line flag to a capability, so a new capability (or a capability list that derives them) changes only this.
import type { ComponentDecl } from '../config/types.ts'
import type { OptionSpec } from './options.ts'

export const GRANT_OPTIONS: Record<string, OptionSpec> = {
  kv: { type: 'boolean', default: false, help: 'grant kv (a scratch store per example)' },
  emit: { type: 'string', multiple: true, default: [], value: 'topic', help: 'grant emit on this topic pattern (repeatable); emits are captured and printed' },
  secret: { type: 'string', multiple: true, default: [], value: 'NAME', help: 'grant reading this secret from the environment (repeatable)' },
  fetch: { type: 'string', multiple: true, default: [], value: 'origin', help: 'grant fetch to this origin (repeatable); only examples with fetch: true use it' },
}

/** The grants the flags ask for; nothing beyond log when none is given. */
export function grantsOf(values: Record<string, unknown>): ComponentDecl['grants'] {
  const fetch = values.fetch as string[]
  return {
    kv: values.kv as boolean, emit: values.emit as string[], secrets: values.secret as string[],
    ...(fetch.length ? { fetch: { origins: fetch, privateOrigins: [], maxRequests: 10 } } : {}),
  }
}
