// References between declarations: every module, pipeline or component a config or dependsOn names must be declared.
import type { RefSite } from './configs.ts'
import type { Diagnostic } from './diagnostics.ts'
import { diagnosticAt } from './locate.ts'
import { didYouMean } from '../suggest.ts'
import type { RefKind } from './validate.ts'

/** Every name declared, per kind of declaration. */
export type DeclaredNames = { [K in `${RefKind}s`]: Iterable<string> }

/** One diagnostic per reference to an undeclared name, at the referencing value, with the likeliest intended name. */
export function checkReferences(refs: readonly RefSite[], declared: DeclaredNames): Diagnostic[] {
  const names: Record<RefKind, Set<string>> = {
    module: new Set(declared.modules), pipeline: new Set(declared.pipelines), component: new Set(declared.components),
  }
  const diagnostics: Diagnostic[] = []
  for (const ref of refs) {
    const known = names[ref.kind]
    if (known.has(ref.name)) continue
    const list = [...known].sort()
    const hint = didYouMean(ref.name, list) ??
      (list.length ? `declared ${ref.kind}s: ${list.join(', ')}` : `no ${ref.kind}s are declared`)
    diagnostics.push(diagnosticAt(ref.file.parsed, ref.path, 'ERR_CONFIG_UNKNOWN_REFERENCE',
      `no ${ref.kind} named '${ref.name}'`, hint))
  }
  return diagnostics
}
