// One component as a `components:` entry yields it, before explicit entries replace found ones and names are
// checked (components.ts); plugin-components.ts yields them for a registry plugin's component.
import type { LoadedFile } from './imports.ts'
import type { PathSegment } from './locate.ts'
import type { ComponentDecl } from './types.ts'

export interface Candidate {
  decl: ComponentDecl
  /** The entry file's real path: an explicit entry replaces what a directory entry found for the same file. */
  identity: string
  isExplicit: boolean
  /** Where a duplicate is reported: its name:, else its file: or directory: value. */
  file: LoadedFile
  at: PathSegment[]
  /** How a duplicate message names where it comes from. */
  label: string
}
