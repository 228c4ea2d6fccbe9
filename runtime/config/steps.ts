// Pipeline steps: calls, `if:` branches and block steps' blocks declared, named, validated, and their runtime expressions syntax-checked.
import { isRecord } from '@islet/sdk'
import { checkTemplateString, templateVariables } from '../expressions/template.ts'
import { messageOf } from '../errors.ts'
import { withBlockVariables } from '../expressions/language.ts'
import type { SourceLocation } from './diagnostics.ts'
import { lookupType, validateConfig, type Declaring } from './configs.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, locateOffset, type PathSegment } from './locate.ts'
import { got } from './schema-errors.ts'
import type { StepDecl } from './types.ts'

/** Explicit step names already used in the pipeline being declared (nested blocks included). */
type Names = Map<string, SourceLocation>

/** Every step declared under a block step, with its path in the file, for the block step's type's `checkBlock`. */
type Collected = { at: PathSegment[]; name: string; type: string; config: unknown }[]

/**
 * Declares a block of steps. Unnamed steps are called `<type>#<n>` (`if#<n>` for branches), n their 1-based
 * position in their block; explicit names must be unique across the whole pipeline, blocks included. The steps of
 * a block step (`do:`, `branches:`) get every check these get, their expressions also seeing the variables the
 * block step's type declares. `collected` receives every step declared, at any depth.
 */
export function declareSteps(ctx: Declaring, file: LoadedFile, pipeline: string, list: unknown[],
  path: PathSegment[], names: Names = new Map(), collected: Collected = []): StepDecl[] {
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
      const name = typeof raw.name === 'string' ? raw.name : `if#${i + 1}`
      collected.push({ at, name, type: 'if', config: undefined })
      steps.push({
        kind: 'if', name, condition: raw.if,
        then: declareSteps(ctx, file, pipeline, Array.isArray(raw.then) ? raw.then : [], [...at, 'then'], names, collected),
        else: declareSteps(ctx, file, pipeline, Array.isArray(raw.else) ? raw.else : [], [...at, 'else'], names, collected),
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
    // The block is declared whatever the config's state: its own mistakes are reported in the same pass.
    const blocks = declareBlocks(ctx, file, pipeline, raw, at, names)
    const name = typeof raw.name === 'string' ? raw.name : `${raw.type}#${i + 1}`
    collected.push({ at, name, type: raw.type, config })
    if (blocks) collected.push(...blocks.collected)
    if (!refs || !blocks) return
    if (!checkStepConfig(ctx, file, raw.type, config, [...at, 'config'])) return
    if (blocks.kind !== undefined && !checkBlock(ctx, file, raw.type, config, at, blocks.collected)) return
    steps.push({ kind: 'step', name, type: raw.type, config, refs, source,
      ...(blocks.block ? { block: blocks.block } : {}), ...(blocks.branches ? { branches: blocks.branches } : {}) })
  })
  return steps
}

interface DeclaredBlocks {
  kind: 'steps' | 'branches' | undefined
  block?: StepDecl[]
  branches?: Record<string, StepDecl[]>
  collected: Collected
}

/**
 * The `do:` or `branches:` of a step, as its type declares it takes (undefined, with a diagnostic, when the step
 * has a block its type takes none of, or lacks the one it needs).
 */
function declareBlocks(ctx: Declaring, file: LoadedFile, pipeline: string, raw: Record<string, unknown>,
  at: PathSegment[], names: Names): DeclaredBlocks | undefined {
  const type = raw.type as string
  const definition = ctx.registry.stepType(type)!.definition
  const kind = definition.block
  const key = kind === 'branches' ? 'branches' : 'do'
  for (const other of ['do', 'branches'] as const) {
    if (!(other in raw) || (kind !== undefined && other === key)) continue
    ctx.diagnostics.push(diagnosticAt(file.parsed, [...at, other], 'ERR_CONFIG_STEP_BLOCK',
      kind === undefined ? `step type '${type}' takes no block, so '${other}:' means nothing here`
        : `step type '${type}' takes ${kind === 'steps' ? 'a do: block' : 'named branches:'}, not '${other}:'`,
      kind === undefined ? `remove '${other}:', or wrap these steps in a block step (foreach, retry, timeout, …)`
        : `write the steps under ${key}:`, { key: true }))
    return undefined
  }
  if (kind === undefined) return { kind, collected: [] }
  const value = raw[key]
  const isGiven = kind === 'steps' ? Array.isArray(value) && value.length > 0 : isRecord(value) && Object.keys(value).length > 0
  if (!isGiven) {
    ctx.diagnostics.push(diagnosticAt(file.parsed, key in raw ? [...at, key] : [...at, 'type'], 'ERR_CONFIG_STEP_BLOCK',
      `step type '${type}' runs a block, but this step has ${key in raw ? `an empty '${key}:'` : `no '${key}:'`}`,
      kind === 'steps' ? "give it the steps to run: do: [ - type: … ]" : 'give it named branches: branches: { a: [ - type: … ], b: [ … ] }'))
    return undefined
  }
  const inner: Declaring = {
    ...ctx,
    language: withBlockVariables(ctx.language, definition.blockVariables),
    blockVariables: new Set([...ctx.blockVariables ?? [], ...definition.blockVariables ?? []]),
  }
  const collected: Collected = []
  if (kind === 'steps') {
    return { kind, block: declareSteps(inner, file, pipeline, value as unknown[], [...at, 'do'], names, collected), collected }
  }
  const branches: Record<string, StepDecl[]> = Object.create(null)
  for (const [branch, list] of Object.entries(value as Record<string, unknown>)) {
    branches[branch] = declareSteps(inner, file, pipeline, Array.isArray(list) ? list : [], [...at, 'branches', branch], names, collected)
  }
  return { kind, branches, collected }
}

/** The block step type's `checkBlock` over every step of its block(s), each problem located in the YAML. */
function checkBlock(ctx: Declaring, file: LoadedFile, type: string, config: unknown, at: PathSegment[], collected: Collected): boolean {
  const check = ctx.registry.stepType(type)?.definition.checkBlock
  if (!check) return true
  const steps = collected.map((s) => ({ path: s.at.slice(at.length), name: s.name, type: s.type, config: s.config }))
  let problems
  try {
    problems = check(config, steps)
  } catch (error) {
    ctx.diagnostics.push(diagnosticAt(file.parsed, [...at, 'type'], 'ERR_PLUGIN_INVALID',
      `step type '${type}' threw while checking its block: ${messageOf(error)}`, 'report this to the plugin author'))
    return false
  }
  for (const p of problems) {
    ctx.diagnostics.push(diagnosticAt(file.parsed, [...at, ...p.path], 'ERR_CONFIG_STEP_CHECK', p.message, p.hint, { key: p.key }))
  }
  return problems.length === 0
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
      if (!ctx.language.variables.view.has(use.name) || ctx.blockVariables?.has(use.name)) continue
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
