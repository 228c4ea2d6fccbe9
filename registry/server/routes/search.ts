// `npm search` (GET /-/v1/search?text=&size=&from=): npm's result shape, read from the server-core's packages,
// versions and dist_tags tables. Every term of `text` must appear in the name, description or keywords
// (qualifiers: `keywords:a,b`, `author:x`, `maintainer:x`, `scope:x`); an exact name ranks first, then a name
// containing the terms. Filtering is done in JS over the live packages: fine for a self-hosted plugin registry's
// size; a full-text index is the next step if that changes.
import type Router from '@koa/router'
import type BetterSqlite3 from 'better-sqlite3'
import semver from 'semver'
import { RegistryHttpError } from '../http-error.ts'

export interface SearchOptions {
  db: BetterSqlite3.Database
}

/** One result, as npm's search endpoint gives it (npm reads name, version, description, keywords, date, publisher, maintainers). */
export interface SearchObject {
  package: {
    name: string
    scope: string
    version: string
    description?: string
    keywords?: string[]
    date: string
    links: Record<string, string>
    author?: unknown
    publisher: { username: string }
    maintainers: { username: string }[]
  }
  score: { final: number; detail: { quality: number; popularity: number; maintenance: number } }
  searchScore: number
  flags?: { deprecated?: string }
}

interface Query {
  terms: string[]
  keywords: string[]
  author?: string
  maintainer?: string
  scope?: string
}

function parseText(text: string): Query {
  const query: Query = { terms: [], keywords: [] }
  for (const word of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    const [qualifier, value] = word.includes(':') ? [word.slice(0, word.indexOf(':')), word.slice(word.indexOf(':') + 1)] : ['', word]
    if (qualifier === 'keywords') query.keywords.push(...value.split(',').filter(Boolean))
    else if (qualifier === 'author') query.author = value
    else if (qualifier === 'maintainer') query.maintainer = value
    else if (qualifier === 'scope') query.scope = value.replace(/^@/, '')
    else if (qualifier === 'is' || qualifier === 'not' || qualifier === 'boost-exact') continue
    else query.terms.push(word)
  }
  return query
}

function integerParam(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback
  const number = Number(value)
  if (!Number.isInteger(number) || number < min) {
    throw new RegistryHttpError(400, 'ERR_REGISTRY_BAD_REQUEST', `search parameter ${name}=${String(value)} is not an integer >= ${min}`, `give ${name} a whole number from ${min} to ${max}, or leave it out`)
  }
  return Math.min(number, max)
}

interface LatestRow {
  name: string
  owner: string
  version: string
  manifest: string
  published_at: string
  published_by: string | null
  deprecated: string | null
}

export function searchRoutes(router: Router, options: SearchOptions): void {
  const { db } = options
  router.get('/-/v1/search', (ctx) => {
    const text = typeof ctx.query['text'] === 'string' ? ctx.query['text'] : ''
    const size = integerParam(ctx.query['size'], 'size', 20, 0, 250)
    const from = integerParam(ctx.query['from'], 'from', 0, 0, Number.MAX_SAFE_INTEGER)
    const query = parseText(text)
    const matches = latestVersions(db).flatMap((row) => {
      const scored = score(row, query)
      return scored === undefined ? [] : [scored]
    })
    matches.sort((a, b) => b.searchScore - a.searchScore || a.package.name.localeCompare(b.package.name))
    ctx.set('Cache-Control', 'no-cache')
    ctx.body = { objects: matches.slice(from, from + size), total: matches.length, time: new Date().toUTCString() }
  })
}

/** Each package with a live version: its `latest` tag when that is live, else its highest live version. */
function latestVersions(db: BetterSqlite3.Database): LatestRow[] {
  const rows = db.prepare(`
    SELECT p.name, p.owner, v.version, v.manifest, v.published_at, v.published_by, v.deprecated,
           (SELECT t.version FROM dist_tags t WHERE t.name = p.name AND t.tag = 'latest') AS latest
    FROM packages p JOIN versions v ON v.name = p.name
    WHERE v.unpublished_at IS NULL`).all() as (LatestRow & { latest: string | null })[]
  const best = new Map<string, LatestRow & { latest: string | null }>()
  for (const row of rows) {
    const current = best.get(row.name)
    const rank = (r: typeof row): [number, string] => [r.version === r.latest ? 1 : 0, r.version]
    if (!current) best.set(row.name, row)
    else {
      const [a, av] = rank(row)
      const [b, bv] = rank(current)
      if (a > b || (a === b && semver.gt(av, bv))) best.set(row.name, row)
    }
  }
  return [...best.values()]
}

function score(row: LatestRow, query: Query): SearchObject | undefined {
  const manifest = JSON.parse(row.manifest) as { description?: unknown; keywords?: unknown; author?: unknown; homepage?: unknown; repository?: unknown }
  const description = typeof manifest.description === 'string' ? manifest.description : undefined
  const keywords = Array.isArray(manifest.keywords) ? manifest.keywords.filter((k): k is string => typeof k === 'string') : []
  const lowerKeywords = keywords.map((k) => k.toLowerCase())
  const name = row.name.toLowerCase()
  const haystack = [name, description?.toLowerCase() ?? '', ...lowerKeywords].join(' ')
  const authorName = typeof manifest.author === 'string' ? manifest.author : (manifest.author as { name?: string } | undefined)?.name
  const scope = row.name.startsWith('@') ? row.name.slice(1, row.name.indexOf('/')) : 'unscoped'
  if (!query.terms.every((term) => haystack.includes(term))) return undefined
  if (!query.keywords.every((k) => lowerKeywords.includes(k))) return undefined
  if (query.author && !(authorName?.toLowerCase().includes(query.author) || row.published_by === query.author)) return undefined
  if (query.maintainer && row.owner !== query.maintainer) return undefined
  if (query.scope && scope !== query.scope) return undefined
  const exact = query.terms.length > 0 && query.terms.join(' ') === name ? 1 : 0
  const inName = query.terms.length > 0 && query.terms.every((term) => name.includes(term)) ? 1 : 0
  const final = 0.5 + 0.3 * exact + 0.2 * inName
  const links: Record<string, string> = {}
  if (typeof manifest.homepage === 'string') links['homepage'] = manifest.homepage
  const repository = typeof manifest.repository === 'string' ? manifest.repository : (manifest.repository as { url?: unknown } | undefined)?.url
  if (typeof repository === 'string') links['repository'] = repository
  return {
    package: {
      name: row.name,
      scope,
      version: row.version,
      ...(description !== undefined ? { description } : {}),
      ...(keywords.length ? { keywords } : {}),
      date: row.published_at,
      links,
      ...(manifest.author !== undefined ? { author: manifest.author } : {}),
      publisher: { username: row.published_by ?? row.owner },
      maintainers: [{ username: row.owner }],
    },
    score: { final, detail: { quality: final, popularity: 1, maintenance: 1 } },
    searchScore: final * 100_000,
    ...(row.deprecated ? { flags: { deprecated: row.deprecated } } : {}),
  }
}
