// Token scopes: `*` (every package), `@acme/*` (every package of a scope) or an exact package name.

export function scopeCovers(scopes: readonly string[], pkg: string): boolean {
  return scopes.some((scope) => scope === '*' || scope === pkg || (scope.endsWith('/*') && scope.startsWith('@') && pkg.startsWith(scope.slice(0, -1))))
}

const SCOPE_PATTERN = /^(\*|@[a-z0-9][a-z0-9._~-]*\/\*|(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)$/

/** The scopes that do not parse, for an error naming them. */
export function badScopes(scopes: readonly string[]): string[] {
  return scopes.filter((scope) => !SCOPE_PATTERN.test(scope))
}
