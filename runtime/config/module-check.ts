// A module's config beyond its schema: the `${{ }}` expressions it holds (a module may compile them with ctx.compile)
// and its type's own `check` (e.g. a state machine's transitions naming states it does not declare), each problem at
// its file:line:col. A problem the type marks as a warning is reported without failing the load.
import { isRecord } from '@islet/sdk'
import { checkTemplateString } from '../expressions/template.ts'
import { messageOf } from '../errors.ts'
import type { Declaring } from './configs.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locateOffset, type PathSegment } from './locate.ts'

/** False when the config has an error (warnings alone keep it). `path` is the module's `config`. */
export function checkModuleConfig(ctx: Declaring, file: LoadedFile, type: string, config: unknown, path: PathSegment[]): boolean {
  const before = ctx.diagnostics.length
  checkExpressions(ctx, file, config, path)
  const check = ctx.registry.moduleType(type)?.definition.check
  if (check) {
    let problems
    try {
      problems = check(config)
    } catch (error) {
      problems = undefined
      ctx.diagnostics.push(diagnosticAt(file.parsed, [...path.slice(0, -1), 'type'], 'ERR_PLUGIN_INVALID',
        `module type '${type}' threw while checking its config: ${messageOf(error)}`, 'report this to the plugin author'))
    }
    for (const p of problems ?? []) {
      const found = diagnosticAt(file.parsed, [...path, ...p.path], 'ERR_CONFIG_MODULE_CHECK', p.message, p.hint, { key: p.key })
      ctx.diagnostics.push(p.severity === 'warning' ? { ...found, severity: 'warning' } : found)
    }
  }
  return !ctx.diagnostics.slice(before).some((d) => d.severity === 'error')
}

function checkExpressions(ctx: Declaring, file: LoadedFile, value: unknown, path: PathSegment[]): void {
  if (typeof value === 'string') {
    if (!value.includes('${{')) return
    for (const problem of checkTemplateString(value, ctx.language)) {
      ctx.diagnostics.push({ ...locateOffset(file.parsed, path, value, problem.offset), severity: 'error',
        code: 'ERR_CONFIG_EXPRESSION', path: path.join('.'), message: problem.message,
        ...(problem.hint ? { hint: problem.hint } : {}) })
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => checkExpressions(ctx, file, v, [...path, i]))
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) checkExpressions(ctx, file, v, [...path, k])
}
