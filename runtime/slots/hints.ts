// Hints a machine can act on in one step, for the mistakes generated components make first: Node built-ins, npm
// packages, Node globals. Used by the compile diagnostics' post-pass (validate.ts, `islet component test`) and the
// type check's worker.
import type { Diagnostic } from '@islet/sdk'

/** Node built-in modules, with or without `node:`: what replaces each in a component. */
const BUILTIN_HINTS: Record<string, string> = {
  fs: 'components cannot use Node built-ins; use ctx.kv for storage (grant kv: true), or import data from a .ts/.json file of the component',
  crypto: 'use the global crypto (crypto.subtle, crypto.randomUUID, crypto.getRandomValues): remove this import',
  http: 'use fetch or ctx.fetch (only granted origins)',
  https: 'use fetch or ctx.fetch (only granted origins)',
  path: 'components have no file system; join strings, or use URL for URLs',
  url: 'use the global URL and URLSearchParams: remove this import',
  util: 'use TextEncoder/TextDecoder and structuredClone (globals); format strings with template literals',
  buffer: 'use Uint8Array with TextEncoder/TextDecoder, and atob/btoa for base64',
  events: 'keep state in ctx.kv and publish with ctx.emit (granted topics)',
  timers: 'use the global setTimeout/clearTimeout (bounded by the invocation deadline)',
  os: 'components cannot use Node built-ins; put settings in the slot config (ctx.config)',
  child_process: 'components cannot start processes; call a service with ctx.fetch (granted origins)',
}

/** npm HTTP clients: the global fetch (or ctx.fetch) does their job. */
const HTTP_CLIENTS = new Set(['axios', 'node-fetch', 'got', 'undici', 'superagent', 'request', 'ky', 'cross-fetch', 'isomorphic-fetch'])

const BUILTINS = new Set(['fs', 'fs/promises', 'crypto', 'http', 'https', 'path', 'url', 'util', 'buffer', 'events', 'timers', 'timers/promises',
  'os', 'child_process', 'stream', 'net', 'zlib', 'assert', 'worker_threads', 'process', 'querystring', 'dns', 'tls', 'vm', 'module'])

/**
 * The hint for an import of `spec` (a non-relative specifier the compile step refused); `origins` are the fetch
 * origins the slot grants (named in the hint so the fix is complete), undefined outside a slot. Undefined for specifiers with nothing better
 * to say than the compile step's own hint.
 */
export function importHint(spec: string, origins: readonly string[] | undefined): string | undefined {
  const bare = spec.startsWith('node:') ? spec.slice(5) : spec
  const granted = origins === undefined ? 'to the origins the app grants'
    : origins.length > 0 ? `granted origins: ${origins.join(', ')}` : 'no origin is granted: the slot must grant fetch first'
  if (HTTP_CLIENTS.has(bare)) return `use fetch or ctx.fetch (${granted}) instead of ${bare}: remove this import`
  const top = bare.split('/')[0]!
  if (spec.startsWith('node:') || BUILTINS.has(bare) || BUILTINS.has(top)) {
    const hint = BUILTIN_HINTS[top] ?? 'components cannot use Node built-ins: only @islet/sdk, the globals (fetch, URL, crypto, TextEncoder, …) and the component\'s own files'
    return top === 'http' || top === 'https' ? `${hint}; ${granted}` : hint
  }
  return `npm packages cannot be imported (only @islet/sdk and the component's own files): copy the code you need into a file of the component, or use the globals (fetch, URL, crypto, TextEncoder, structuredClone)`
}

/** Node globals generated code reaches for: what to use instead. */
export const NODE_GLOBAL_HINTS: Record<string, string> = {
  process: 'components have no process: read settings from ctx.config (the slot\'s config:) and secrets with await ctx.secrets.get(name)',
  Buffer: 'components have no Buffer: use TextEncoder/TextDecoder for bytes and atob/btoa for base64',
  require: "components have no require: use a static import of '@islet/sdk' or of a file of the component",
  __dirname: 'components have no files: embed data in a .ts or .json file of the component and import it',
  __filename: 'components have no files: embed data in a .ts or .json file of the component and import it',
  module: 'components are ES modules: export default defineComponent({...})',
  exports: 'components are ES modules: export default defineComponent({...})',
  global: 'use globalThis',
  setImmediate: 'use setTimeout(callback, 0)',
  setInterval: 'components have no intervals: each invocation ends when execute returns; use setTimeout within the invocation',
  clearInterval: 'components have no intervals: each invocation ends when execute returns; use setTimeout within the invocation (and clearTimeout)',
  clearImmediate: 'use setTimeout(callback, 0) and clearTimeout',
}

/**
 * The hint for a runtime "X is not defined" (an example that threw on a Node global the type check also names), or
 * undefined when X is not one generated code reaches for.
 */
export function undefinedGlobalHint(message: string): string | undefined {
  const name = /\b([A-Za-z_$][\w$]*) is not defined\b/.exec(message)?.[1]
  return name !== undefined && Object.hasOwn(NODE_GLOBAL_HINTS, name) ? NODE_GLOBAL_HINTS[name] : undefined
}

/** `export const handler = …`, `export async function handler(…)`, `exports.handler =`: an AWS Lambda-style entry. */
const LAMBDA_EXPORT = /(?:^|\n)\s*export\s+(?:const|let|var|(?:async\s+)?function\*?)\s+handler\b|\b(?:module\.)?exports\.handler\s*=/

/**
 * The hint for an entry with no default export that is written as a Lambda handler (generated code's most common
 * shape after a plain function): what differs, then the exact shape. Undefined for other entries.
 */
export function lambdaHint(entryText: string, shape: string): string | undefined {
  if (!LAMBDA_EXPORT.test(entryText)) return undefined
  return 'this is a Lambda-style handler; a component is not: Islet calls execute(input, ctx) with the request\'s JSON already parsed '
    + '(no event, no JSON.parse(event.body)), and execute returns the output object itself (no statusCode, headers or body: '
    + `the pipeline decides the HTTP response). Replace export const handler with: ${shape}`
}


/**
 * A certain fix for the import statement on `lineText` (the line esbuild located it on): removing it, when the
 * global of the same name does the import's job (`import crypto from 'node:crypto'`, `import fetch from 'node-fetch'`,
 * `import { URL } from 'node:url'`); false when removing it would leave names undefined.
 */
export function removableImport(spec: string, lineText: string): boolean {
  const bare = spec.startsWith('node:') ? spec.slice(5) : spec
  const quoted = `['"]${spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"]`
  const whole = (clause: string) => new RegExp(`^\\s*import\\s+${clause}\\s+from\\s+${quoted}\\s*;?\\s*$`).test(lineText)
  if (bare === 'crypto') return whole('(?:crypto|\\*\\s+as\\s+crypto)')
  if (bare === 'node-fetch' || bare === 'cross-fetch' || bare === 'isomorphic-fetch') return whole('fetch')
  if (bare === 'url') return whole('\\{\\s*(?:(?:URL|URLSearchParams)\\s*,?\\s*)+\\}')
  return false
}

/**
 * A compile diagnostic refusing a non-relative import, with the hint for what was imported, and where certain a
 * replacement that removes the import line (`lineText`: the line it points at). Other diagnostics pass unchanged.
 */
export function importHinted(d: Diagnostic, lineText: string | undefined, origins: readonly string[] | undefined): Diagnostic {
  if (d.code !== 'ERR_COMPONENT_IMPORT') return d
  const spec = /^imports (\S+): only @islet\/sdk may be imported/.exec(d.message)?.[1]
  if (!spec) return d
  const hint = importHint(spec, origins) ?? d.hint
  if (lineText !== undefined && d.line !== null && removableImport(spec, lineText)) {
    return { ...d, hint, column: 1, endLine: d.line + 1, endColumn: 1, replacement: { text: '' } }
  }
  return { ...d, hint }
}
