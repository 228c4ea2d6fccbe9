// References between declarations: every module, pipeline or component a config or dependsOn names must be declared,
// and a module named through `moduleRef(…, contract)` must be of a type that provides that contract.
import type { RefSite } from './configs.ts'
import type { Diagnostic } from './diagnostics.ts'
import { diagnosticAt } from './locate.ts'
import { didYouMean } from '../suggest.ts'
import type { RefKind } from './validate.ts'

/** Every name declared, per kind of declaration. */
export type DeclaredNames = { [K in `${RefKind}s`]: Iterable<string> }

/** The declared modules' types and the contracts each type provides (by contract name), for `x-islet-provides`. */
export interface ModuleContracts {
  /** The type of a declared module whose declaration is valid; undefined otherwise (then nothing more is said). */
  typeOf(module: string): string | undefined
  provides(type: string): readonly string[]
  /** The registered module types that provide `contract`, for the hint when no declared module does. */
  typesProviding(contract: string): readonly string[]
}

/**
 * One diagnostic per reference to an undeclared name, at the referencing value, with the likeliest intended name;
 * and per module reference whose module's type does not provide the contract the property asks for, with the
 * declared modules that do.
 */
export function checkReferences(refs: readonly RefSite[], declared: DeclaredNames, contracts?: ModuleContracts): Diagnostic[] {
  const names: Record<RefKind, Set<string>> = {
    module: new Set(declared.modules), pipeline: new Set(declared.pipelines), component: new Set(declared.components),
  }
  const diagnostics: Diagnostic[] = []
  for (const ref of refs) {
    const known = names[ref.kind]
    if (known.has(ref.name)) {
      const problem = ref.kind === 'module' && ref.contract && contracts ? contractProblem(ref, ref.contract, contracts, known) : undefined
      if (problem) diagnostics.push(problem)
      continue
    }
    const hint = ref.kind === 'module' && ref.contract && contracts
      ? fittingHint(ref.name, ref.contract, contracts, known)
      : didYouMean(ref.name, [...known].sort()) ??
        (known.size ? `declared ${ref.kind}s: ${[...known].sort().join(', ')}` : `no ${ref.kind}s are declared`)
    diagnostics.push(diagnosticAt(ref.file.parsed, ref.path, 'ERR_CONFIG_UNKNOWN_REFERENCE',
      `no ${ref.kind} named '${ref.name}'`, hint))
  }
  return diagnostics
}

/**
 * For an unknown module where a property needs `contract`: only the modules that provide it are candidates (a typo
 * in a machine's name must not be "corrected" to a queue's), else the types to declare one of.
 */
function fittingHint(name: string, contract: string, contracts: ModuleContracts, modules: ReadonlySet<string>): string {
  const fitting = providing(contract, contracts, modules)
  return didYouMean(name, fitting) ??
    (fitting.length ? `declared modules that provide ${contract}: ${fitting.join(', ')}` : `no declared module provides ${contract}; ${typesHint(contract, contracts)}`)
}

function providing(contract: string, contracts: ModuleContracts, modules: ReadonlySet<string>): string[] {
  return [...modules].filter((m) => {
    const t = contracts.typeOf(m)
    return t !== undefined && contracts.provides(t).includes(contract)
  }).sort()
}

function contractProblem(ref: RefSite, contract: string, contracts: ModuleContracts, modules: ReadonlySet<string>): Diagnostic | undefined {
  const type = contracts.typeOf(ref.name)
  if (type === undefined) return undefined
  const provided = contracts.provides(type)
  if (provided.includes(contract)) return undefined
  const fitting = providing(contract, contracts, modules)
  return diagnosticAt(ref.file.parsed, ref.path, 'ERR_CONFIG_MODULE_CONTRACT',
    `module '${ref.name}' (${type}) does not provide ${contract}, which this property needs; ${type} provides ${provided.length ? provided.join(', ') : 'nothing'}`,
    fitting.length ? `modules that provide ${contract}: ${fitting.join(', ')}` : `no declared module provides ${contract}; ${typesHint(contract, contracts)}`)
}

function typesHint(contract: string, contracts: ModuleContracts): string {
  const types = [...contracts.typesProviding(contract)].sort()
  return types.length ? `declare one of a type that does (module types that do: ${types.join(', ')})` : 'no registered module type provides it either'
}
