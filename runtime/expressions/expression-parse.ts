// Parses one runtime expression into a syntax tree; inside a template it stops at the `}}` that closes `${{`.
import { createLexer, expressionError, type Token } from './expression-lex.ts'

/** A node of the syntax tree; `start` is an offset into the parsed text. */
export type Node =
  | { type: 'literal'; value: string | number | boolean | null; start: number }
  | { type: 'array'; items: Node[]; start: number }
  | { type: 'object'; entries: { key: string; value: Node; start: number }[]; start: number }
  | { type: 'name'; name: string; start: number }
  /** `a.b` (the property is a string literal) and `a[expr]`. */
  | { type: 'member'; object: Node; property: Node; start: number }
  | { type: 'call'; callee: Node; args: Node[]; start: number }
  | { type: 'unary'; op: string; operand: Node; start: number }
  /** Arithmetic, comparison and the short-circuit `&&`, `||`, `??`; `start` is the operator's offset. */
  | { type: 'binary'; op: string; left: Node; right: Node; start: number }
  | { type: 'conditional'; test: Node; then: Node; else: Node; start: number }
  /**
   * `x => body` or `(x, i) => body`: anonymous, one expression, only ever an argument of a built-in that takes one
   * (map, filter, …). It has no name, so nothing can call it but that built-in: there is no user-defined recursion.
   */
  | { type: 'lambda'; params: { name: string; start: number }[]; body: Node; start: number }

export interface Parsed {
  readonly node: Node
  /** The expression's own text, without surrounding whitespace (and without `${{`/`}}`). */
  readonly source: string
  /** Offset of `source` in the parsed text. */
  readonly start: number
  /** Where parsing ended: after the closing `}}` inside a template, else the text's length. */
  readonly next: number
}

/** Binding power of binary operators; higher binds tighter. `??` binds loosest so `a || b ?? c` reads left to right. */
const PRECEDENCE: Readonly<Record<string, number>> = {
  '??': 1, '||': 2, '&&': 3, '==': 4, '!=': 4, '<': 5, '<=': 5, '>': 5, '>=': 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7,
}
const MAX_DEPTH = 64

/**
 * Parses the expression that starts at `start` in `text`. With `embedded`, `start` is just after a `${{` and the
 * expression must be closed by `}}`; otherwise it must run to the end of the text. Throws ERR_CONFIG_EXPRESSION.
 */
export function parseExpression(text: string, start = 0, embedded = false): Parsed {
  const lexer = createLexer(text, start)
  let token = lexer.next()
  let depth = 0
  let lastEnd = start
  const isClosing = (t: Token) => embedded && t.kind === 'punct' && t.value === '}' && text[t.start + 1] === '}'
  const is = (value: string) => token.kind === 'punct' && token.value === value
  const describe = (t: Token) =>
    t.kind === 'end' ? 'the end' : isClosing(t) ? "'}}'" : t.kind === 'string' ? 'a string' : `'${t.value}'`
  const advance = () => {
    const t = token
    lastEnd = t.end
    token = lexer.next()
    return t
  }
  const expect = (value: string, context: string) => {
    if (!is(value)) throw expressionError(`expected '${value}' ${context}, found ${describe(token)}`, token.start)
    return advance()
  }

  if (isClosing(token)) throw expressionError('empty expression', start - 3, 'write an expression between ${{ and }}')
  const first = token.start
  const node = parseConditional()
  if (embedded) {
    if (token.kind === 'end') throw expressionError("unterminated '${{'", start - 3, "close it with '}}'")
    if (!isClosing(token)) throw expressionError(`unexpected ${describe(token)}; expected an operator or '}}'`, token.start)
  } else if (token.kind !== 'end') {
    throw expressionError(`unexpected ${describe(token)}; expected an operator or the end`, token.start)
  }
  return { node, source: text.slice(first, lastEnd), start: first, next: embedded ? token.start + 2 : text.length }

  function parseConditional(): Node {
    if (++depth > MAX_DEPTH) throw expressionError('expression nested too deeply', token.start)
    const test = parseBinary(1)
    let node = test
    if (is('?')) {
      const at = advance().start
      const then = parseConditional()
      expect(':', "after the '?' branch")
      node = { type: 'conditional', test, then, else: parseConditional(), start: at }
    }
    depth--
    return node
  }

  function parseBinary(min: number): Node {
    let left = parseUnary()
    for (;;) {
      const precedence = token.kind === 'punct' ? PRECEDENCE[token.value as string] : undefined
      if (precedence === undefined || precedence < min) return left
      const op = advance()
      left = { type: 'binary', op: op.value as string, left, right: parseBinary(precedence + 1), start: op.start }
    }
  }

  function parseUnary(): Node {
    if (is('!') || is('-') || is('+')) {
      const op = advance()
      if (++depth > MAX_DEPTH) throw expressionError('expression nested too deeply', op.start)
      const operand = parseUnary()
      depth--
      return { type: 'unary', op: op.value as string, operand, start: op.start }
    }
    return parsePostfix(parsePrimary())
  }

  function parsePostfix(node: Node): Node {
    for (;;) {
      if (is('.')) {
        advance()
        if (token.kind !== 'name') throw expressionError(`expected a property name after '.', found ${describe(token)}`, token.start)
        const name = advance()
        node = { type: 'member', object: node, property: { type: 'literal', value: name.value, start: name.start }, start: name.start }
      } else if (is('[')) {
        const at = advance().start
        const property = parseConditional()
        expect(']', "to close '['")
        node = { type: 'member', object: node, property, start: at }
      } else if (is('(')) {
        const at = advance().start
        node = { type: 'call', callee: node, args: parseList(')', 'arguments'), start: at }
      } else {
        return node
      }
    }
  }

  // After the opening bracket: comma-separated expressions, a trailing comma allowed, then `close`.
  function parseList(close: string, what: string): Node[] {
    const items: Node[] = []
    while (!is(close)) {
      items.push(parseConditional())
      if (!is(',')) break
      advance()
    }
    expect(close, `to close the ${what}`)
    return items
  }

  function parsePrimary(): Node {
    const t = token
    if (t.kind === 'number' || t.kind === 'string') {
      advance()
      return { type: 'literal', value: t.value, start: t.start }
    }
    if (t.kind === 'name') {
      advance()
      if (t.value === 'true' || t.value === 'false') return { type: 'literal', value: t.value === 'true', start: t.start }
      if (t.value === 'null') return { type: 'literal', value: null, start: t.start }
      const name: Node = { type: 'name', name: t.value as string, start: t.start }
      return is('=>') ? parseLambda([name], t.start) : name
    }
    if (is('(')) return parseParenthesised()
    if (is('=>')) throw expressionError("'=>' needs a parameter before it", t.start, 'write x => …, or (x, i) => …')
    if (is('[')) return { type: 'array', items: (advance(), parseList(']', 'array')), start: t.start }
    if (is('{')) return parseObject()
    throw expressionError(`expected an expression, found ${describe(t)}`, t.start)
  }

  // `(expr)`, or the parameter list of `(x) => …` / `(x, i) => …`: which one is known at the token after `)`.
  function parseParenthesised(): Node {
    const open = advance().start
    if (is(')')) throw expressionError('expected an expression inside ()', token.start, 'a lambda has one or two parameters: x => …, or (x, i) => …')
    const items = [parseConditional()]
    while (is(',')) {
      const comma = advance().start
      if (is(')')) throw expressionError("expected a parameter after ','", comma)
      items.push(parseConditional())
    }
    expect(')', "to close '('")
    if (is('=>')) return parseLambda(items, open)
    if (items.length > 1) throw expressionError("expected '=>' after the lambda parameters", token.start, 'write (x, i) => …')
    return items[0]!
  }

  // At `=>`: the parameters were parsed as expressions; each must be a plain name.
  function parseLambda(params: Node[], start: number): Node {
    const arrow = advance().start
    const names: { name: string; start: number }[] = []
    for (const p of params) {
      if (p.type !== 'name') throw expressionError('a lambda parameter is a name', p.start, 'write x => …, or (x, i) => …')
      if (names.some((n) => n.name === p.name)) throw expressionError(`duplicate lambda parameter '${p.name}'`, p.start)
      names.push({ name: p.name, start: p.start })
    }
    if (names.length > 2) throw expressionError('a lambda takes one or two parameters (the element and its index)', params[2]!.start)
    if (token.kind === 'end' || isClosing(token)) throw expressionError("expected the lambda's body after '=>'", arrow)
    return { type: 'lambda', params: names, body: parseConditional(), start }
  }

  function parseObject(): Node {
    const start = advance().start
    const entries: { key: string; value: Node; start: number }[] = []
    const seen = new Set<string>()
    while (!is('}')) {
      const key = token
      if (key.kind !== 'name' && key.kind !== 'string' && key.kind !== 'number') {
        throw expressionError(`expected a key, found ${describe(key)}`, key.start)
      }
      advance()
      const name = String(key.value)
      if (seen.has(name)) throw expressionError(`duplicate key '${name}'`, key.start)
      seen.add(name)
      expect(':', `after the key '${name}'`)
      entries.push({ key: name, value: parseConditional(), start: key.start })
      if (!is(',')) break
      advance()
    }
    expect('}', 'to close the object')
    return { type: 'object', entries, start }
  }
}
