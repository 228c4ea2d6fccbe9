// Pipeline steps: calls and `if:` branches declared, named, validated, and their runtime expressions syntax-checked.
import { isRecord } from '@islet/sdk'
import { checkTemplateString, templateVariables } from '../expressions/template.ts'
import { messageOf } from '../errors.ts'
import type { SourceLocation } from './diagnostics.ts'
import { lookupType, validateConfig, type Declaring } from './configs.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, locateOffset, type PathSegment } from './locate.ts'
import { got } from './schema-errors.ts'
import type { StepDecl } from './types.ts'

/** Explicit step names already used in the pipeline being declared (nested blocks included). */
type Names = Map<string, SourceLocation>

/**
 * Declares a block of steps. Unnamed steps are called `<type>#<n>` (`if#<n>` for branches), n their 1-based
 * position in their block; explicit names must be unique across the whole pipeline.
 */
export function declareSteps(ctx: Declaring, file: LoadedFile, pipeline: string, list: unknown[],
  path: PathSegment[], names: Names = new Map()): StepDecl[] {
  const steps: StepDecl[] = []
  list.forEach((raw, i) => {
    if (!isRecord(raw)) return
    const at = [...path, i]
    const source = locate(file.parsed, at)
    if (typeof raw.name === 'string') {
      const first = names.get(raw.name)
      const here = locate(file.parsed, [...at, 'name'])
      if (first) {
        ctx.diagnostics.push(diagnosticAt(file.parsed, [...at, 'name'], 'ERR_CONFIG_DUPLICATE_STEP',
          `step name '${raw.name}' is used twice in pipeline '${pipeline}': at ${file.name}:${first.line}:${first.col} and at ${file.name}:${here.line}:${here.col}`,
          `rename one: steps.${raw.name} must mean one step`))
      } else names.set(raw.name, here)
    }
    if ('if' in raw) {
      if (typeof raw.if !== 'string') return
      checkCondition(ctx, file, pipeline, raw.if, [...at, 'if'])
      steps.push({
        kind: 'if', name: typeof raw.name === 'string' ? raw.name : `if#${i + 1}`, condition: raw.if,
        then: declareSteps(ctx, file, pipeline, Array.isArray(raw.then) ? raw.then : [], [...at, 'then'], names),
        else: declareSteps(ctx, file, pipeline, Array.isArray(raw.else) ? raw.else : [], [...at, 'else'], names),
        source,
      })
      return
    }
    if (typeof raw.type !== 'string') return
    const type = lookupType(ctx, file, 'step', raw.type, [...at, 'type'])
    const config = structuredClone(raw.config ?? {}) // defaults go into it; aliases may share the parsed one
    if (!type || !isRecord(config)) return
    const refs = validateConfig(ctx, file, type, config, [...at, 'config'])
    checkExpressions(ctx, file, pipeline, config, [...at, 'config'])
    if (!refs) return
    if (!checkStepConfig(ctx, file, raw.type, config, [...at, 'config'])) return
    steps.push({ kind: 'step', name: typeof raw.name === 'string' ? raw.name : `${raw.type}#${i + 1}`,
      type: raw.type, config, refs, source })
  })
  return steps
}

/** The step type's own `check` of a config its schema accepted; each problem located in the YAML. */
function checkStepConfig(ctx: Declaring, file: LoadedFile, type: string, config: unknown, path: PathSegment[]): boolean {
  const check = ctx.registry.stepType(type)?.definition.check
  if (!check) return true
  let problems
  try {
    problems = check(config)
  } catch (error) {
    ctx.diagnostics.push(diagnosticAt(file.parsed, [...path.slice(0, -1), 'type'], 'ERR_PLUGIN_INVALID',
      `step type '${type}' threw while checking its config: ${messageOf(error)}`, 'report this to the plugin author'))
    return false
  }
  for (const p of problems) {
    const found = diagnosticAt(file.parsed, [...path, ...p.path], 'ERR_CONFIG_STEP_CHECK', p.message, p.hint, { key: p.key })
    ctx.diagnostics.push(p.severity === 'warning' ? { ...found, severity: 'warning' } : found)
  }
  return !problems.some((p) => p.severity !== 'warning')
}

/**
 * Every string inside a step's config (defaults included) must hold well-formed `${{ … }}` expressions. Where they
 * read a trigger's own variable is recorded: once the modules are declared, each trigger running the pipeline must have it.
 */
function checkExpressions(ctx: Declaring, file: LoadedFile, pipeline: string, value: unknown, path: PathSegment[]): void {
  if (typeof value === 'string') {
    if (!value.includes('${{')) return
    for (const problem of checkTemplateString(value, ctx.language)) {
      ctx.diagnostics.push({ ...locateOffset(file.parsed, path, value, problem.offset), severity: 'error',
        code: 'ERR_CONFIG_EXPRESSION', path: path.join('.'), message: problem.message,
        ...(problem.hint ? { hint: problem.hint } : {}) })
    }
    for (const use of templateVariables(value)) {
      if (!ctx.language.variables.view.has(use.name)) continue
      ctx.viewUses.push({ pipeline, name: use.name, at: locateOffset(file.parsed, path, value, use.offset), path: path.join('.') })
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => checkExpressions(ctx, file, pipeline, v, [...path, i]))
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) checkExpressions(ctx, file, pipeline, v, [...path, k])
}

/** An `if:` is exactly one `${{ … }}` expression: text around it would make the condition a (always truthy) string. */
function checkCondition(ctx: Declaring, file: LoadedFile, pipeline: string, condition: string, path: PathSegment[]): void {
  const trimmed = condition.trim()
  const isOne = trimmed.startsWith('${{') && trimmed.endsWith('}}') && !trimmed.includes('${{', 3)
  if (!isOne) {
    ctx.diagnostics.push(diagnosticAt(file.parsed, path, 'ERR_CONFIG_EXPRESSION',
      `an if: condition must be exactly one runtime expression \${{ … }}, got ${got(condition)}`,
      trimmed.includes('${{') ? 'write the whole condition inside one ${{ … }}, e.g. ${{ a && b }}'
        : `write it as if: \${{ ${trimmed} }}`))
    return
  }
  checkExpressions(ctx, file, pipeline, condition, path)
}
