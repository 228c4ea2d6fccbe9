// The grant flags of `islet component test`, as the capability list declares them (each capability's `cli`): the
// command-line side of runtime/sandbox/capabilities/flags.ts, so a new capability brings its flag with it.
import type { ComponentDecl } from '../config/types.ts'
import { grantsFromFlags } from '../sandbox/capabilities/flags.ts'
import { CAPABILITY_LIST } from '../sandbox/capabilities/list.ts'
import type { OptionSpec } from './options.ts'

export const GRANT_OPTIONS: Record<string, OptionSpec> = Object.fromEntries(CAPABILITY_LIST.flatMap(({ cli }) => !cli ? [] : [[
  cli.flag,
  cli.type === 'boolean'
    ? { type: 'boolean', default: false, help: cli.help }
    // `[--emit topic]` → `topic`
    : { type: 'string', multiple: true, default: [], value: cli.usage.slice(1, -1).split(' ')[1], help: cli.help },
]]))

/** The grants the flags ask for; nothing beyond log when none is given. */
export function grantsOf(values: Record<string, unknown>): ComponentDecl['grants'] {
  return grantsFromFlags(values)
}

/** `--kv, --emit <topic>, …`: how a refusal met under `component test` says what to pass instead of editing an app. */
export const GRANT_FLAGS = CAPABILITY_LIST.flatMap(({ cli }) => !cli ? [] : [cli.type === 'boolean' ? `--${cli.flag}`
  : `--${cli.flag} <${cli.usage.slice(1, -1).split(' ')[1]}>`]).join(', ')
