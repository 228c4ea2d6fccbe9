// Module contracts at run time: an instance is checked against every contract its type provides right after
// `create`, and a module reached through `ctx.module(ref, contract)` / `ctx.previous(contract)` must be of a type that
// declares that contract. Contracts are compared by name, so two copies of the sdk agree.
import type { Contract, MemberKind } from '@islet/sdk'
import { IsletError } from '../errors.ts'

/** A module as another one reaches it: its instance and what its type declares it provides. */
export interface ModuleHandle {
  name: string
  type: string
  provides: readonly Contract[]
  instance: object
}

const names = (provides: readonly Contract[]) => (provides.length ? provides.map((c) => c.name).join(', ') : 'nothing')

/** Refuses a value that is not a contract (a plugin built for an older sdk calling `ctx.module(name)` alone). */
export function requireContract(asker: string, call: string, contract: unknown): asserts contract is Contract {
  const name = (contract as Contract | undefined)?.name
  if (typeof name !== 'string' || typeof (contract as Contract).members !== 'object') {
    throw new IsletError('ERR_MODULE_CONTRACT_MISMATCH',
      `${asker} called ${call} without a contract: pass the contract it needs, e.g. ctx.module(config.db, sqlDatabase) (contracts come from the sdk or the plugin that defines them)`)
  }
}

/** The instance as `contract`, or ERR_MODULE_CONTRACT_MISMATCH when its type does not declare it. */
export function asContract<T extends object>(asker: string, target: ModuleHandle, contract: Contract<T>): T {
  const provided = target.provides.find((c) => c.name === contract.name)
  // Same name, other members (two plugins each defining a contract of that name): the typed interface would be a
  // lie, and the asker would fail later on a missing member with a TypeError.
  const differs = provided && provided !== contract && Object.entries(contract.members).find(([m, kind]) => provided.members[m] !== kind)
  if (provided && !differs) return target.instance as T
  if (differs) {
    throw new IsletError('ERR_MODULE_CONTRACT_MISMATCH',
      `${asker} asked for module '${target.name}' as ${contract.name}, but its type ${target.type} provides another contract of that name ` +
      `(member '${differs[0]}': the asker's is a ${differs[1]}, the provider's ${provided.members[differs[0]] ?? 'missing'}): ` +
      'two plugins define different contracts under one name; they must share one contract object (import it from the plugin that defines it)',
      { details: { module: target.name, type: target.type, contract: contract.name, member: differs[0] } })
  }
  throw new IsletError('ERR_MODULE_CONTRACT_MISMATCH',
    `${asker} asked for module '${target.name}' as ${contract.name}, but its type ${target.type} does not provide it ` +
    `(it provides ${names(target.provides)}): point the reference at a module whose type provides ${contract.name}`,
    { details: { module: target.name, type: target.type, contract: contract.name, provides: target.provides.map((c) => c.name) } })
}

/** What kind `instance[member]` is: a getter counts as present (its value may need `start`), a missing one as undefined. */
function kindOf(instance: object, member: string): MemberKind | 'getter' | 'null' | string | undefined {
  for (let o: object | null = instance; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, member)
    if (!d) continue
    if (d.get) return 'getter'
    return d.value === null ? 'null' : typeof d.value
  }
  return undefined
}

/** Checks a freshly created instance against every contract of its type; throws ERR_MODULE_CONTRACT_UNMET naming the first gap. */
export function checkInstance(module: string, type: string, provides: readonly Contract[], instance: unknown): void {
  for (const contract of provides) {
    const fail = (problem: string, member?: string) => new IsletError('ERR_MODULE_CONTRACT_UNMET',
      `module '${module}' (${type}) does not meet the contract ${contract.name} its type declares in provides: ${problem}; ` +
      `fix the module type's create(), or drop ${contract.name} from its provides`,
      { details: { module, type, contract: contract.name, ...(member ? { member } : {}) } })
    if (typeof instance !== 'object' || instance === null) throw fail(`create() returned ${instance === null ? 'null' : typeof instance}, not an object`)
    for (const [member, kind] of Object.entries(contract.members)) {
      const found = kindOf(instance, member)
      if (found === 'getter' || found === kind) continue
      throw fail(found === undefined ? `member '${member}' is missing (expected a ${kind})` : `member '${member}' is a ${found}, expected a ${kind}`, member)
    }
  }
}

/**
 * `contract` over a module that is not created yet, reached at first use: a module's own pipelines are compiled
 * before it is created (a queue's consumer pipeline enqueueing follow-up jobs, a state machine's onEnter moving
 * another instance), and their steps ask for it while they are created. The type is checked now; `reach` runs at the
 * first member used, once the module exists (a call before that fails as reaching a module not started does).
 */
export function lateContract<T extends object>(contract: Contract<T>, reach: () => T): T {
  let instance: T | undefined
  const target = () => (instance ??= reach()) as Record<string, unknown>
  const late: Record<string, unknown> = {}
  for (const [member, kind] of Object.entries(contract.members)) {
    if (kind === 'function') {
      late[member] = (...args: unknown[]) => (target()[member] as (...a: unknown[]) => unknown)(...args)
    } else {
      Object.defineProperty(late, member, { get: () => target()[member], enumerable: true })
    }
  }
  return Object.freeze(late) as T
}
