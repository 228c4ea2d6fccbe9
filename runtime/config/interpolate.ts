// Environment interpolation on parsed scalar values (never raw text, so a variable cannot inject YAML structure).
import { isMap, isPair, isScalar, isSeq, type Scalar } from 'yaml'
import type { Diagnostic } from './diagnostics.ts'
import { offsetIn, type PathSegment } from './locate.ts'
import type { ParsedFile } from './parse.ts'

export type Env = Readonly<Record<string, string | undefined>>

/** One problem in a string, at a character offset of it. */
export interface EnvProblem {
  offset: number
  code: 'ERR_CONFIG_ENV_MISSING' | 'ERR_CONFIG_ENV_SYNTAX'
  message: string
  hint?: string
}

export interface Substitution {
  value: string
  /** True when the whole string was exactly one `${…}` reference (such plain scalars are re-typed). */
  isWhole: boolean
  problems: EnvProblem[]
  /** Every variable consulted, with the value it had (undefined when unset). */
  used: Map<string, string | undefined>
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*'
const REFERENCE = new RegExp(`^(${NAME})(?:(:-|:\\?)([\\s\\S]*))?$`)
const FORMS = 'write ${NAME}, ${NAME:-default} or ${NAME:?message}, or $${ for a literal ${'

/**
 * Substitutes `${VAR}`, `${VAR:-default}` (also when empty), `${VAR:?message}` (error when unset or empty) and the
 * escape `$${` → `${`. Runtime expressions `${{ … }}` are copied untouched, whatever they contain.
 * @example substitute('http://${HOST:-localhost}', {}).value === 'http://localhost'
 */
export function substitute(text: string, env: Env): Substitution {
  const problems: EnvProblem[] = []
  const used = new Map<string, string | undefined>()
  let value = ''
  let references = 0
  let i = 0
  while (i < text.length) {
    const at = text.indexOf('$', i)
    if (at < 0) { value += text.slice(i); break }
    value += text.slice(i, at)
    if (text.startsWith('$${', at)) { value += '${'; i = at + 3; continue }
    if (text.startsWith('${{', at)) {
      const end = text.indexOf('}}', at + 3)
      const stop = end < 0 ? text.length : end + 2
      value += text.slice(at, stop)
      i = stop
      continue
    }
    if (!text.startsWith('${', at)) { value += '$'; i = at + 1; continue }
    const close = text.indexOf('}', at + 2)
    if (close < 0) {
      problems.push({ offset: at, code: 'ERR_CONFIG_ENV_SYNTAX', message: `unterminated '\${' in '${text}'`,
        hint: `close it with '}', e.g. \${${text.slice(at + 2).trim().match(NAME_PREFIX)?.[0] || 'NAME'}}, or write $\${ for a literal \${` })
      value += text.slice(at)
      break
    }
    references++
    i = close + 1
    const body = text.slice(at + 2, close)
    const match = REFERENCE.exec(body)
    if (!match || match[3]?.includes('${')) {
      problems.push({ offset: at, code: 'ERR_CONFIG_ENV_SYNTAX', message: `malformed reference '\${${body}}'`,
        hint: syntaxHint(body) })
      continue
    }
    const [, name, operator, operand = ''] = match as unknown as [string, string, string | undefined, string?]
    const current = env[name]
    used.set(name, current)
    if (operator === ':-') value += current ? current : operand
    else if (operator === ':?' && !current) {
      problems.push({ offset: at, code: 'ERR_CONFIG_ENV_MISSING',
        message: operand ? `${name}: ${operand}` : `environment variable ${name} is unset or empty`,
        hint: `set the environment variable ${name}` })
    } else if (current === undefined) {
      problems.push({ offset: at, code: 'ERR_CONFIG_ENV_MISSING', message: `environment variable ${name} is not set`,
        hint: `set ${name}, or give a default: \${${name}:-value}` })
    } else value += current
  }
  const isWhole = references === 1 && /^\$\{[^}]*\}$/.test(text)
  return { value, isWhole, problems, used }
}

const NAME_PREFIX = new RegExp(`^${NAME}`)

function syntaxHint(body: string): string {
  const trimmed = body.trim()
  if (trimmed === '') return `the name is missing: ${FORMS}`
  if (new RegExp(`^${NAME}$`).test(trimmed)) return `remove the spaces: \${${trimmed}}`
  if (trimmed.includes('${')) return 'a default cannot contain another ${…} reference'
  if (new RegExp(`^${NAME}(:?[-?=+])`).test(trimmed)) return `unsupported operator: ${FORMS}`
  if (/^[0-9]/.test(trimmed)) return `a variable name starts with a letter or '_': ${FORMS}`
  return `runtime expressions are written \${{ ${trimmed} }}; for a literal '\${' write '$\${'`
}

/** YAML 1.2 core scalars, limited to what interpolation may produce: int, float, true, false. */
const INT = /^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$/
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
const BOOL: Record<string, boolean> = { true: true, True: true, TRUE: true, false: false, False: false, FALSE: false }

/** Re-types an interpolated plain scalar; never yields null, maps or sequences, nor numbers that lose digits. */
export function retype(value: string): string | number | boolean {
  if (value in BOOL) return BOOL[value]!
  if (INT.test(value)) {
    const n = value.startsWith('0o') ? parseInt(value.slice(2), 8) : Number(value)
    return Number.isSafeInteger(n) ? n : value
  }
  if (FLOAT.test(value)) return Number(value)
  return value
}

export interface InterpolateResult {
  diagnostics: Diagnostic[]
  /** Variables consulted (name → value, undefined when unset), for the config hash. */
  used: Map<string, string | undefined>
  /** Dotted paths of values whose interpolation failed: their value is meaningless, so are other errors about it. */
  failed: Set<string>
}

/** Interpolates every string scalar value of the document in place (keys are left alone). */
export function interpolate(parsed: ParsedFile, env: Env): InterpolateResult {
  const diagnostics: Diagnostic[] = []
  const used = new Map<string, string | undefined>()
  const failed = new Set<string>()
  const visit = (node: unknown, path: PathSegment[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair)) visit(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : String(pair.key)])
      }
    } else if (isSeq(node)) node.items.forEach((item, i) => visit(item, [...path, i]))
    else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) replace(node, path)
  }
  const replace = (node: Scalar, path: PathSegment[]) => {
    const text = node.value as string
    const result = substitute(text, env)
    for (const [name, value] of result.used) used.set(name, value)
    if (result.problems.length) failed.add(path.join('.'))
    for (const p of result.problems) {
      const { line, col } = parsed.lineCounter.linePos(offsetIn(parsed.text, node, text, p.offset))
      diagnostics.push({ file: parsed.file, line, col, severity: 'error', code: p.code, path: path.join('.'),
        message: p.message, ...(p.hint ? { hint: p.hint } : {}) })
    }
    node.value = result.isWhole && node.type === 'PLAIN' && !result.problems.length ? retype(result.value) : result.value
  }
  visit(parsed.doc.contents, [])
  return { diagnostics, used, failed }
}
