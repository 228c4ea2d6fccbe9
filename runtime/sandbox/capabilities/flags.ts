// The `islet component test` flags that grant capabilities to the component under test, one per capability that
// declares `cli` (list order): what flags exist, how the usage line shows them, and how their values become grants.
import type { ComponentGrants } from './list.ts'
import { CAPABILITY_LIST } from './list.ts'

const FLAGGED = CAPABILITY_LIST.flatMap(({ name, cli, doc }) => cli ? [{ name, cli, doc }] : [])

/** node:util parseArgs options: a boolean flag defaults to false, a string flag repeats and defaults to none. */
export const CAPABILITY_FLAGS: Readonly<Record<string, { type: 'boolean'; default: boolean } | { type: 'string'; multiple: true; default: string[] }>> =
  Object.fromEntries(FLAGGED.map(({ cli }) => [cli.flag, cli.type === 'boolean'
    ? { type: 'boolean', default: false } as const
    : { type: 'string', multiple: true, default: [] as string[] } as const]))

/** `[--kv] [--fetch origin] [--emit topic] [--secret NAME]`. */
export const CAPABILITY_USAGE = FLAGGED.map(({ cli }) => cli.usage).join(' ')

/** One line per flag, for help text: `--emit topic   publishes events …`. */
export const CAPABILITY_HELP: readonly string[] = FLAGGED.map(({ cli, doc }) => `${cli.usage.slice(1, -1).padEnd(18)} ${doc}`)

/** The grants the parsed flag values stand for (a flag not given grants nothing). */
export function grantsFromFlags(values: Readonly<Record<string, unknown>>): ComponentGrants {
  const grants: Record<string, unknown> = {}
  for (const { name, cli } of FLAGGED) {
    const value = values[cli.flag]
    const grant = cli.grant(cli.type === 'boolean' ? value === true : Array.isArray(value) ? value as string[] : [])
    if (grant !== undefined) grants[name] = grant
  }
  return grants as ComponentGrants
}
