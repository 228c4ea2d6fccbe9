// Tokens of the runtime expression language, scanned on demand so a template can stop at the closing `}}`.
import { IsletError } from '../errors.ts'

export type TokenKind = 'number' | 'string' | 'name' | 'punct' | 'end'

export interface Token {
  readonly kind: TokenKind
  /** The number, the unescaped string, the name, or the punctuator. */
  readonly value: string | number
  /** Offsets into the scanned text. */
  readonly start: number
  readonly end: number
}

/** A syntax or compile error of an expression; `offset` points into the text being scanned. */
export function expressionError(message: string, offset: number, hint?: string): IsletError {
  return new IsletError('ERR_CONFIG_EXPRESSION', message, { details: hint === undefined ? { offset } : { offset, hint } })
}

const PUNCTUATORS = ['=>', '==', '!=', '<=', '>=', '&&', '||', '??', '(', ')', '[', ']', '{', '}', ',', '.', '?', ':', '!',
  '+', '-', '*', '/', '%', '<', '>']
// Spellings people bring from JavaScript; each gets a targeted message rather than "unexpected character".
const MISTAKES: readonly [string, string, string][] = [
  ['===', "'===' is not an operator", "use '==' (it is always strict)"],
  ['!==', "'!==' is not an operator", "use '!=' (it is always strict)"],
  ['?.', "'?.' is not needed", "member access is already null-safe: write 'a.b'"],
  ['=', "assignment is not allowed", "use '==' to compare"],
  ['&', "'&' is not an operator", "use '&&'"],
  ['|', "'|' is not an operator", "use '||'"],
]
const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0', '\\': '\\', "'": "'", '"': '"', '/': '/',
}
const NAME_START = /[A-Za-z_$]/
const NAME_REST = /[A-Za-z0-9_$]/
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/** Scans `text` from `start`; `next()` returns one token at a time and an `end` token at the end of the text. */
export function createLexer(text: string, start: number): { next(): Token } {
  let pos = start
  return {
    next(): Token {
      while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t' || text[pos] === '\n' || text[pos] === '\r')) pos++
      const at = pos
      if (at >= text.length) return { kind: 'end', value: '', start: at, end: at }
      const c = text[at]!
      if (c >= '0' && c <= '9') {
        NUMBER.lastIndex = at
        const match = NUMBER.exec(text)!
        pos = at + match[0].length
        if (pos < text.length && NAME_REST.test(text[pos]!)) throw expressionError(`malformed number '${text.slice(at, pos + 1)}'`, at)
        return { kind: 'number', value: Number(match[0]), start: at, end: pos }
      }
      if (c === "'" || c === '"') return scanString(c, at)
      if (NAME_START.test(c)) {
        pos++
        while (pos < text.length && NAME_REST.test(text[pos]!)) pos++
        return { kind: 'name', value: text.slice(at, pos), start: at, end: pos }
      }
      for (const [spelling, message, hint] of MISTAKES) {
        // A doubled single character ('==', '&&', '||') is a real operator, and so is a lambda's '=>'.
        if (text.startsWith(spelling, at) && !(spelling.length === 1 && (text[at + 1] === spelling || text.startsWith('=>', at)))) {
          throw expressionError(message, at, hint)
        }
      }
      for (const p of PUNCTUATORS) {
        if (text.startsWith(p, at)) {
          pos = at + p.length
          return { kind: 'punct', value: p, start: at, end: pos }
        }
      }
      throw expressionError(`unexpected character '${c}'`, at)
    },
  }

  function scanString(quote: string, at: number): Token {
    let out = ''
    pos = at + 1
    while (pos < text.length) {
      const c = text[pos]!
      if (c === quote) {
        pos++
        return { kind: 'string', value: out, start: at, end: pos }
      }
      if (c !== '\\') {
        out += c
        pos++
        continue
      }
      const e = text[pos + 1]
      if (e === undefined) break
      if (e === 'u') {
        out += scanUnicode()
        continue
      }
      const decoded = ESCAPES[e]
      if (decoded === undefined) throw expressionError(`unknown escape '\\${e}' in string`, pos)
      out += decoded
      pos += 2
    }
    throw expressionError('unterminated string', at, `close it with ${quote}`)
  }

  // At `\u`: reads `\uXXXX` or `\u{X…}`.
  function scanUnicode(): string {
    const escape = pos
    const braced = text[pos + 2] === '{'
    const digits = braced ? /^\{([0-9a-fA-F]{1,6})\}/.exec(text.slice(pos + 2, pos + 11)) : /^[0-9a-fA-F]{4}/.exec(text.slice(pos + 2, pos + 6))
    const code = digits ? parseInt(braced ? digits[1]! : digits[0], 16) : NaN
    if (!(code <= 0x10ffff)) throw expressionError("malformed '\\u' escape", escape, 'write \\uXXXX or \\u{X…}')
    pos += 2 + digits![0].length
    return String.fromCodePoint(code)
  }
}
