// Whether the grants an app gives a plugin's component cover what the package says it requests (`islet.components.
// <name>.capabilities`). A component granted less would fail at its first call with a refusal the app's author
// never saw coming; refusing at load names everything missing at once, at the entry.
import type { RequestedCapabilities } from '../../registry/manifest.ts'

/** Each requested item the grants do not cover, as `kv`, `fetch https://geo.example`, `emit orders.created`, … */
export function missingCapabilities(requested: RequestedCapabilities | undefined, grants: Record<string, unknown>): string[] {
  const missing: string[] = []
  for (const [name, wants] of Object.entries(requested ?? {})) {
    if (wants === undefined || wants === false) continue
    const granted = grants[name]
    // fetch, emit and secrets are requested as lists (the registry validates that at publish, but a lock may name a
    // package from elsewhere): any other shape (`fetch: true`, one string) asks for what no list of grants can
    // be compared with, so it is never covered.
    if (LISTED.has(name) && !Array.isArray(wants)) {
      missing.push(`${name} (as ${JSON.stringify(wants)}, not a list)`)
      continue
    }
    if (name === 'kv') {
      if (granted === undefined || granted === false) missing.push('kv')
    } else if (name === 'fetch') {
      const origins = new Set(listOf(isRecord(granted) ? granted.origins : granted).map(originOf))
      for (const url of listOf(wants)) if (!origins.has(originOf(url))) missing.push(`fetch ${url}`)
    } else if (name === 'emit') {
      const patterns = listOf(granted)
      for (const topic of listOf(wants)) if (!patterns.some((p) => covers(p, topic))) missing.push(`emit ${topic}`)
    } else if (Array.isArray(wants)) {
      const have = new Set(listOf(granted))
      for (const item of listOf(wants)) if (!have.has(item)) missing.push(`${name} ${item}`)
    } else if (granted === undefined || granted === false || (Array.isArray(granted) && granted.length === 0)) {
      missing.push(name)
    }
  }
  return missing
}

/** Capabilities a component requests item by item. */
const LISTED = new Set(['fetch', 'emit', 'secrets'])

/** An emit grant pattern covers a topic (or a narrower pattern): exact, or a `prefix.*` that contains it. */
function covers(pattern: string, topic: string): boolean {
  if (pattern === topic) return true
  return pattern.endsWith('.*') && topic.startsWith(pattern.slice(0, -1))
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

function listOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
