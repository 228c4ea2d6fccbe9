// `islet registry token create|revoke|list`: the publish tokens of a registry folder. A token is shown once, when
// created (the registry keeps only its hash); its id is what list shows and revoke takes. Revocation holds from the
// registry's next request on.
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'
import { issueToken, listTokens, revokeToken } from './registry-parts.ts'
import { registryDir } from './registry-serve.ts'

const SCOPE = /^(\*|@[a-z0-9][a-z0-9._~-]*\/\*|(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)$/
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 }

/** `30d` → seconds. Every token expires: a leaked one stops working on its own. */
export function parseExpiry(text: string): number {
  const m = /^(\d+)([smhdwy])$/.exec(text)
  if (!m || Number(m[1]) === 0) throw new IsletError('ERR_CLI_USAGE', `--expires takes a duration such as 12h, 30d, 8w or 1y (s, m, h, d, w, y); not '${text}'`)
  return Number(m[1]) * UNITS[m[2]!]!
}

export async function tokenCreate({ values }: ParsedOptions): Promise<number> {
  const user = values.user as string | undefined
  const scopes = (values.scope as string[] | undefined) ?? []
  if (!user) throw new IsletError('ERR_CLI_USAGE', "islet registry token create needs --user <name>: the user the token publishes as")
  if (scopes.length === 0) throw new IsletError('ERR_CLI_USAGE', "islet registry token create needs at least one --scope: the packages it may publish ('@acme/*', an exact name, or '*' for all)")
  for (const s of scopes) if (!SCOPE.test(s)) throw new IsletError('ERR_CLI_USAGE', `--scope '${s}' is not a package pattern: write '@acme/*' (a scope), @acme/geo or geo (one package), or '*' (every package)`)
  const expiresIn = parseExpiry(values.expires as string)
  const dir = registryDir(values)
  const { token, id, expires } = await issueToken(dir, { user, scopes, expiresIn })
  if (values.format === 'json') console.log(JSON.stringify({ id, token, user, scopes, expires }))
  else {
    // The token alone on stdout, so that TOKEN=$(islet registry token create …) works; the rest is for the reader.
    console.log(token)
    console.error(`token ${id} for ${user}, may publish ${scopes.join(', ')}, expires ${expires}; shown only now (the registry keeps its hash). Use it: npm config set //host:port/:_authToken <token>`)
  }
  return 0
}

export async function tokenRevoke({ values, positionals }: ParsedOptions): Promise<number> {
  const id = positionals[0]!
  const dir = registryDir(values)
  const info = await revokeToken(dir, id)
  if (values.format === 'json') console.log(JSON.stringify(info))
  else console.log(`token ${id} (${info.user}, ${info.scopes.join(', ')}) revoked: the registry refuses it from its next request on`)
  return 0
}

export async function tokenList({ values }: ParsedOptions): Promise<number> {
  const rows = await listTokens(registryDir(values))
  if (values.format === 'json') {
    console.log(JSON.stringify({ tokens: rows }, null, 2))
    return 0
  }
  if (rows.length === 0) {
    console.log("no tokens; create one: islet registry token create --user <name> --scope '@scope/*'")
    return 0
  }
  const table = [['id', 'user', 'scopes', 'created', 'expires', 'state'], ...rows.map((r) => [
    r.id, r.user, r.scopes.join(','), r.created, r.expires,
    r.revokedAt ? `revoked ${r.revokedAt}` : Date.parse(r.expires) <= Date.now() ? 'expired' : 'active',
  ])]
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
  for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i]! + 2)).join('').trimEnd())
  return 0
}
