// `islet apikey create|list|revoke`: the API keys of an app's auth.apikey module. A key is printed once, when created
// (the store keeps its sha256 only); its id is what list shows and revoke takes. A revocation holds from the running
// engine's next request on: it reads the store on every request.
import { IsletError } from '../errors.ts'
import { openAppKeyStore } from './apikey-store.ts'
import type { ParsedOptions } from './options.ts'

/** A scope is one word: what `requires:` and the admin API compare as exact strings (`orders:write`, `admin`). */
const SCOPE = /^[^\s,"\\]{1,100}$/

function scopesOf(text: string | undefined): string[] {
  if (text === undefined) return []
  const scopes = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const bad = scopes.find((s) => !SCOPE.test(s))
  if (bad !== undefined) throw new IsletError('ERR_CLI_USAGE', `--scopes '${bad}' is not a scope: scopes are words without spaces, quotes or commas (orders:write, admin, deploy:pricing), separated by commas`)
  return [...new Set(scopes)]
}

export async function apikeyCreate({ values, positionals }: ParsedOptions): Promise<number> {
  const name = positionals[0]!.trim()
  if (name === '' || name.length > 100 || /[\x00-\x1f\x7f]/.test(name)) {
    throw new IsletError('ERR_CLI_USAGE', 'the key\'s name is what lists and logs show: 1 to 100 printable characters, e.g. ci-deploy')
  }
  const scopes = scopesOf(values.scopes as string | undefined)
  const { store, module } = await openAppKeyStore(values, 'apikey create')
  try {
    const made = store.create(name, scopes)
    if (values.format === 'json') console.log(JSON.stringify({ ...made, module, store: store.file }))
    else {
      // The key alone on stdout, so that KEY=$(islet apikey create …) works; the rest is for the reader.
      console.log(made.key)
      console.error(`API key ${made.id} '${name}' (${scopes.length > 0 ? `scopes ${scopes.join(', ')}` : 'no scopes'}) in ${store.file}; ` +
        'shown only now (the store keeps its hash). Use it: Authorization: Bearer <key>, or X-API-Key: <key>')
    }
  } finally {
    store.close()
  }
  return 0
}

export async function apikeyList({ values }: ParsedOptions): Promise<number> {
  const { store, module } = await openAppKeyStore(values, 'apikey list')
  let keys
  try {
    keys = store.list()
  } finally {
    store.close()
  }
  if (values.format === 'json') {
    console.log(JSON.stringify({ module, store: store.file, keys }, null, 2))
    return 0
  }
  if (keys.length === 0) {
    console.log(`no API keys in ${store.file}; create one: islet apikey create <name> --scopes a,b`)
    return 0
  }
  const table = [['id', 'name', 'scopes', 'created', 'last used', 'state'], ...keys.map((k) => [
    k.id, k.name, k.scopes.join(','), k.createdAt, k.lastUsedAt ?? '-', k.revokedAt ? `revoked ${k.revokedAt}` : 'active',
  ])]
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
  for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i]! + 2)).join('').trimEnd())
  return 0
}

export async function apikeyRevoke({ values, positionals }: ParsedOptions): Promise<number> {
  const id = positionals[0]!
  const { store } = await openAppKeyStore(values, 'apikey revoke')
  let info
  try {
    info = store.revoke(id)
  } finally {
    store.close()
  }
  if (values.format === 'json') console.log(JSON.stringify(info))
  else console.log(`API key ${id} '${info.name}' revoked: the engine refuses it from its next request on`)
  return 0
}
