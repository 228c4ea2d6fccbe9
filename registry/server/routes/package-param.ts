// Package names in paths: `@scope%2fname` (npm's escapedName, one segment, decoded by the router) or `@scope/name`
// (two segments). Routes are registered for both and call this to get the name back.
import type { Context } from 'koa'

export function packageParam(ctx: Context): string {
  const params = ctx.params as Record<string, string | undefined>
  return params['scope'] !== undefined ? `${params['scope']}/${params['name']}` : String(params['pkg'])
}

/** The two path shapes for a route whose package part is `:pkg`. */
export function packagePaths(template: string): string[] {
  return [template, template.replace(':pkg', ':scope/:name')]
}
