// What one generation of a component is: a declaration compiled, loaded into the sandbox and serving (or prepared
// to), with what its calls need. The host makes them (host.ts), the reloads swap and retire them (reload.ts).
import type { ComponentDecl, LimitName } from '../config/types.ts'
import type { ComponentMetaDto, InvocationLimitsDto } from '../sandbox/protocol.ts'
import type { Capabilities } from './capabilities.ts'
import type { Locator } from './locate.ts'

/** One loaded generation of a component. */
export interface ComponentGeneration {
  decl: ComponentDecl
  number: number
  key: string
  hash: string
  meta: ComponentMetaDto
  limits: Record<LimitName, number>
  invocation: InvocationLimitsDto
  caps: Capabilities
  /** The component's own source files this generation was compiled from (what watch mode watches). */
  files: readonly string[]
  /** Maps guest stack frames to the component's own source (through the build's source map, kept here). */
  locate: Locator
}
