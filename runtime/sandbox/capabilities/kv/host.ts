// The engine's side of ctx.kv: the component's namespace in the app's store (deps.kv), under its grant's quota.
import type { CapabilityDeps, CapabilityHost } from '../capability.ts'
import { deny } from '../refusal.ts'
import type { KvGrant } from './index.ts'
import { kvQuota } from './kv.ts'

export function create(grant: KvGrant | undefined, name: string, deps: CapabilityDeps): CapabilityHost {
  const quota = kvQuota(grant)
  const kv = quota && deps.kv ? deps.kv.namespace(name, quota) : undefined
  function needKv() {
    if (!kv) throw deny('kv', 'not-granted', `component '${name}' is not granted kv; grant it with grants: { kv: true }`)
    return kv
  }
  return {
    ops: {
      'kv.get': ([key]) => needKv().get(key),
      'kv.getEntry': ([key]) => needKv().getEntry(key),
      'kv.set': ([key, value, options]) => needKv().set(key, value, options),
      'kv.increment': ([key, by]) => needKv().increment(key, by),
      'kv.delete': ([key]) => needKv().delete(key),
      'kv.list': ([prefix, limit]) => needKv().list(prefix, limit),
    },
  }
}
