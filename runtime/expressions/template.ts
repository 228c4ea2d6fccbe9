// Config values holding runtime expressions `${{ … }}`: checked at load, compiled once, evaluated per run.
import type { Template } from '@islet/sdk'
import { IsletError, isIsletError } from '../errors.ts'
import { compileEmbedded, embeddedVariables, type Evaluate } from './expression.ts'
import { NEUTRAL_LANGUAGE, type Language } from './language.ts'
import { isPlainObject, toText } from './expression-values.ts'

/** Whether `text` holds at least one runtime expression. */
export function isTemplateString(text: string): boolean {
  return text.includes('${{')
}

/**
 * Every problem in the `${{ … }}` expressions of `text` (syntax, unknown names, forbidden members, method calls,
 * unterminated `${{`, unknown plugin functions), with offsets into `text`; [] when all compile. `language`: what
 * the registry's triggers and plugins add.
 */
export function checkTemplateString(text: string, language: Language = NEUTRAL_LANGUAGE): { offset: number; message: string; hint?: string }[] {
  const problems: { offset: number; message: string; hint?: string }[] = []
  let from = 0
  for (let open = text.indexOf('${{'); open >= 0; open = text.indexOf('${{', from)) {
    try {
      from = compileEmbedded(text, open + 3, language).next
    } catch (error) {
      if (!isIsletError(error, 'ERR_CONFIG_EXPRESSION')) throw error
      const { offset, hint } = error.details as { offset: number; hint?: string }
      problems.push(hint === undefined ? { offset, message: error.message } : { offset, message: error.message, hint })
      // Resume after the next '}}', the likeliest end of the broken expression, to report later ones too.
      const close = text.indexOf('}}', Math.max(offset, open + 3))
      if (close < 0) break
      from = close + 2
    }
  }
  return problems
}

/** The variables the `${{ … }}` expressions of `text` read, with offsets into `text` (expressions that do not parse are skipped). */
export function templateVariables(text: string): { name: string; offset: number }[] {
  const found: { name: string; offset: number }[] = []
  let from = 0
  for (let open = text.indexOf('${{'); open >= 0; open = text.indexOf('${{', from)) {
    try {
      const { names, next } = embeddedVariables(text, open + 3)
      found.push(...names)
      from = next
    } catch {
      const close = text.indexOf('}}', open + 3)
      if (close < 0) break
      from = close + 2
    }
  }
  return found
}

/**
 * Compiles a config value for evaluation per run. A string that is exactly one `${{ expr }}` (whitespace around it
 * allowed) yields the expression's value; other strings with expressions interpolate them as text (null and
 * undefined as '', objects as JSON); arrays and plain objects are walked. A value without expressions is a
 * constant: deep-frozen once and returned as the same object on every run. `language`: the registered triggers'
 * view variables and plugins' functions the expressions may name. Throws ERR_CONFIG_EXPRESSION.
 */
export function compileTemplate<T = unknown>(value: unknown, language: Language = NEUTRAL_LANGUAGE): Template<T> {
  const built = build(value, language)
  if (built.run) return built.run as Template<T>
  const constant = built.value as T
  return () => constant
}

/** A compiled value: either a constant or a function of the run, never both. */
type Built = { value: unknown; run?: undefined } | { run: Evaluate; value?: undefined }

function build(value: unknown, language: Language): Built {
  if (typeof value === 'string') return value.includes('${{') ? { run: buildString(value, language) } : { value }
  if (Array.isArray(value)) return buildArray(value, language)
  if (isPlainObject(value)) return buildObject(value, language)
  return { value }
}

function buildString(text: string, language: Language): Evaluate {
  const literals: string[] = []
  const expressions: Evaluate[] = []
  let from = 0
  for (let open = text.indexOf('${{'); open >= 0; open = text.indexOf('${{', from)) {
    literals.push(text.slice(from, open))
    try {
      const compiled = compileEmbedded(text, open + 3, language)
      expressions.push(compiled.evaluate)
      from = compiled.next
    } catch (error) {
      throw located(text, error)
    }
  }
  literals.push(text.slice(from))
  if (expressions.length === 1 && literals[0]!.trim() === '' && literals[1]!.trim() === '') return expressions[0]!
  if (expressions.length === 1) {
    const [before, after] = literals as [string, string]
    const only = expressions[0]!
    return (s) => before + toText(only(s)) + after
  }
  return (s) => {
    let out = literals[0]!
    for (let i = 0; i < expressions.length; i++) out += toText(expressions[i]!(s)) + literals[i + 1]!
    return out
  }
}

function located(text: string, error: unknown): unknown {
  if (!isIsletError(error, 'ERR_CONFIG_EXPRESSION')) return error
  const { offset, hint } = error.details as { offset: number; hint?: string }
  const shown = text.length > 120 ? `${text.slice(0, 117)}...` : text
  return new IsletError('ERR_CONFIG_EXPRESSION',
    `${error.message} at offset ${offset} of '${shown}'${hint === undefined ? '' : ` (${hint})`}`,
    { details: { ...error.details, text }, cause: error })
}

const constantOf = (value: unknown): Evaluate => () => value

function buildArray(items: readonly unknown[], language: Language): Built {
  const built = items.map((item) => build(item, language))
  if (built.every((b) => !b.run)) return { value: Object.freeze(built.map((b) => b.value)) }
  const parts = built.map((b) => b.run ?? constantOf(b.value))
  return {
    run: (s) => {
      const out = new Array<unknown>(parts.length)
      for (let i = 0; i < parts.length; i++) out[i] = parts[i]!(s)
      return out
    },
  }
}

function buildObject(object: Record<string, unknown>, language: Language): Built {
  const keys = Object.keys(object)
  const built = keys.map((k) => build(object[k], language))
  if (built.every((b) => !b.run)) return { value: Object.freeze(Object.fromEntries(keys.map((k, i) => [k, built[i]!.value]))) }
  const parts = built.map((b) => b.run ?? constantOf(b.value))
  // A '__proto__' key in config must become an own property, not the prototype: define it rather than assign.
  if (keys.includes('__proto__')) {
    return { run: (s) => Object.fromEntries(keys.map((k, i) => [k, parts[i]!(s)])) }
  }
  return {
    run: (s) => {
      const out: Record<string, unknown> = {}
      for (let i = 0; i < keys.length; i++) out[keys[i]!] = parts[i]!(s)
      return out
    },
  }
}
