// ctx.kv: a key-value namespace of the component's own in the app's SQLite store, with a quota (kv.ts has the rules,
// kv-sqlite.ts the store, host.ts the engine's handlers).
import { defineCapability, type ArgumentCap } from '../capability.ts'

/** `grants.kv`: `true` for the default quota (16 MiB, 10,000 keys), or the quota to use. */
export type KvGrant = boolean | { maxBytes?: number; maxKeys?: number }

// Sized from KV_LIMITS (kv.ts): a call within them is never refused by its caps.
const KEY: ArgumentCap = { name: 'key', max: 512 }
const VALUE: ArgumentCap = { name: 'value', max: 65_536 }
const int = (minimum: number, maximum: number, description: string) => ({ type: 'integer', minimum, maximum, description })

export default defineCapability({
  name: 'kv',
  doc: 'its own key-value namespace (SQLite) with a quota: get, getEntry, set (compare-and-set), increment, delete, list',
  ops: {
    'kv.get': [KEY],
    'kv.getEntry': [KEY],
    'kv.set': [KEY, VALUE, { name: 'options', max: 64 }],
    'kv.increment': [KEY, { name: 'amount', max: 32 }],
    'kv.delete': [KEY],
    'kv.list': [{ name: 'prefix', max: 512 }, { name: 'limit', max: 32 }],
  },
  deniedAs: 'kv',
  guest: {
    value: String.raw`freeze({
      get: (key) => call(state, 'kv.get', [key]),
      getEntry: (key) => then(call(state, 'kv.getEntry', [key]), (e) => e === null ? null : freeze({ value: e.value, version: e.version })),
      // Resolves with the new version; { ifVersion } makes it a compare-and-set, where an ifVersion present but
      // undefined ({ ifVersion: entry?.version } for a missing entry) means "must not exist", never "unconditional".
      set: (key, value, options) => call(state, 'kv.set', options === undefined || options === null ? [key, value]
        : typeof options !== 'object' ? [key, value, options]
        : [key, value, 'ifVersion' in options ? { ifVersion: options.ifVersion === undefined ? null : options.ifVersion } : {}]),
      increment: (key, by) => call(state, 'kv.increment', by === undefined ? [key] : [key, by]),
      delete: (key) => call(state, 'kv.delete', [key]),
      list: (prefix, limit) => call(state, 'kv.list', [prefix, limit]),
    })`,
  },
  grant: {
    schema: {
      anyOf: [{ type: 'boolean' }, { $ref: '#/definitions/kvGrant', description: 'a quota { maxBytes, maxKeys }' }], default: false,
      description: 'Its own key-value store: true (a quota of 16 MiB and 10,000 keys), or { maxBytes, maxKeys }.',
    },
    definitions: {
      kvGrant: {
        type: 'object', additionalProperties: false,
        description: "Its own key-value store, with this quota (unset: 16 MiB, 10,000 keys); a write past it fails with ERR_CAPABILITY_QUOTA.",
        properties: {
          maxBytes: int(1, 1024 ** 4, 'UTF-8 bytes of keys plus JSON values it may hold (default 16 MiB).'),
          maxKeys: int(1, 100_000_000, 'Keys it may hold (default 10000).'),
        },
      },
    },
    none: false as KvGrant,
    grants: (grant) => Boolean(grant),
  },
  cli: {
    flag: 'kv', type: 'boolean', usage: '[--kv]',
    help: 'grant kv (a scratch store per example)',
    grant: (value) => value === true,
  },
  host: () => import('./host.ts'),
})
