// npm's package name rules (those of validate-npm-package-name for new packages), so a name the registry accepts is
// one every npm client accepts too: lowercase, URL-safe, at most 214 characters, no leading dot or underscore, and an
// optional `@scope/` prefix whose parts follow the same rules.
import { builtinModules } from 'node:module'

const MAX_LENGTH = 214
const RESERVED = new Set(['node_modules', 'favicon.ico'])
const SPECIAL = /[~'!()*]/

/** What is wrong with `name` as a package name, or undefined when npm would accept it for a new package. */
export function packageNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'the name must be a string'
  if (name.length === 0) return 'the name is empty'
  if (name.length > MAX_LENGTH) return `the name is longer than ${MAX_LENGTH} characters`
  if (name.trim() !== name) return 'the name has leading or trailing spaces'
  if (name.toLowerCase() !== name) return 'the name has capital letters (npm allows only lowercase for new packages)'
  if (RESERVED.has(name)) return `'${name}' is a reserved name`
  if (builtinModules.includes(name)) return `'${name}' is a Node.js core module name`
  const scoped = /^@([^/]+)\/([^/]+)$/.exec(name)
  if (name.startsWith('@') && !scoped) return "a scoped name has the form '@scope/name'"
  for (const part of scoped ? [scoped[1] ?? '', scoped[2] ?? ''] : [name]) {
    if (part.startsWith('.') || part.startsWith('_')) return `'${part}' starts with a dot or an underscore`
    if (SPECIAL.test(part)) return `'${part}' holds one of the characters ~'!()*`
    if (encodeURIComponent(part) !== part) return `'${part}' holds characters that are not URL-safe`
  }
  return undefined
}

/** `@acme/geo` → `@acme`, `left-pad` → undefined: the part a registry can be bound to (`registries:`, `.npmrc`). */
export function scopeOf(name: string): `@${string}` | undefined {
  return name.startsWith('@') ? name.split('/')[0] as `@${string}` : undefined
}

/** `@acme/geo` → `geo`, `left-pad` → `left-pad`: the part npm puts in tarball file names. */
export function baseNameOf(name: string): string {
  return name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name
}
