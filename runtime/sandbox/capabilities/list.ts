// Every capability a component can be given, as an explicit list: the order is ctx's key order, the grants
// schema's property order and the order of the `component test` flags. Adding one: see ARCHITECTURE.md
// ("Adding a capability"). Read by the sandbox worker too: nothing here may import past its allowlist.
import type { Capability } from './capability.ts'
import emit from './emit/index.ts'
import fetch from './fetch/index.ts'
import kv from './kv/index.ts'
import log from './log/index.ts'
import secrets from './secrets/index.ts'

export const CAPABILITIES = [log, kv, fetch, emit, secrets] as const

type Listed = (typeof CAPABILITIES)[number]
type OpOf<C> = C extends Capability<string, any, infer Op> ? Op : never
type GrantOf<C> = C extends Capability<string, infer G, any> ? G : never
type NameOf<C> = C extends Capability<infer N, any, any> ? N : never
/** An ambient capability (log) declares no grant: its grant type is left `unknown`. */
type Granted = Listed extends infer C ? C extends unknown ? unknown extends GrantOf<C> ? never : C : never : never
/** Every capability operation a guest may attempt; the engine checks each against the component's grants. */
export type HostOp = OpOf<Listed>

/**
 * What a component may reach beyond `log` and `config`, one key per grantable capability (grants.<name> in YAML).
 * The loader fills in each capability's `none` where YAML says nothing, and a key left out means "not
 * granted" to every host half, so code building grants by hand names only what it grants.
 */
export type ComponentGrants = { [C in Granted as NameOf<C>]?: GrantOf<C> }

/** The list as the runtime walks it, each capability's own types widened (list order kept). */
export const CAPABILITY_LIST: readonly Capability<string, any, string>[] = CAPABILITIES
