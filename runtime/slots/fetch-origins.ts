// The origins a deployment's code fetches by literal URL (`fetch('https://…')`, `ctx.fetch(\`https://…/${id}\`)`)
// checked against its slot's fetch grant before anything runs: an ungranted origin fails every call in production,
// while examples (no network) would only say "may not fetch". Literal URLs only: a URL built at run time is the
// capability's to refuse, with its own message.
import type { DeployFiles, Diagnostic } from '@islet/sdk'

/** `fetch(` or `ctx.fetch(` (any receiver) followed by a string or template literal starting with an http(s) origin. */
const LITERAL_FETCH = /\bfetch\s*\(\s*(['"`])(https?:\/\/[^'"`/?#\s$]+)/g

function originOf(text: string): string | undefined {
  try {
    return new URL(text).origin
  } catch {
    return undefined
  }
}

/**
 * One ERR_SLOT_CEILING diagnostic per literal fetch of an origin outside `granted` (the slot's fetch origins), located
 * at the URL, naming the granted origins. `slot` is the slot's name, for the message.
 */
export function ungrantedFetches(files: DeployFiles, granted: readonly string[], slot: string): Diagnostic[] {
  const allowed = new Set(granted.map(originOf).filter((o) => o !== undefined))
  const out: Diagnostic[] = []
  for (const [file, text] of Object.entries(files)) {
    if (!/\.m?[tj]s$/.test(file)) continue
    for (const m of text.matchAll(LITERAL_FETCH)) {
      const origin = originOf(m[2]!)
      if (origin === undefined || allowed.has(origin)) continue
      const start = m.index + m[0].length - m[2]!.length
      const before = text.slice(0, start).split('\n')
      const line = before.length
      const column = before.at(-1)!.length + 1
      out.push({
        code: 'ERR_SLOT_CEILING', severity: 'error', file, line, column, endLine: line, endColumn: column + m[2]!.length,
        message: `fetches ${origin}, an origin slot '${slot}' does not grant: every such call is refused with ERR_CAPABILITY_DENIED`,
        hint: allowed.size === 0
          ? `the slot grants no fetch origins: remove this call, or ask the app owner to grant ${origin} in the slot's grants.fetch`
          : `granted origins: ${[...allowed].join(', ')}: call one of those instead, or ask the app owner to add ${origin} to the slot's grants.fetch`,
      })
    }
  }
  return out
}
