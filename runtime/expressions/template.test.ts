// Templates: raw values from a lone expression, text from interpolation, constants computed once and frozen.
import { describe, expect, it } from 'vitest'
import { checkTemplateString as checkWith, compileTemplate as compileWith, isTemplateString } from './template.ts'
import { errorOf, HTTP_LANGUAGE, scopeOf } from './test-scope.ts'

// Templates of HTTP pipelines: the trigger's variables (body, params, …) are known.
const compileTemplate = (value: unknown) => compileWith(value, HTTP_LANGUAGE)
const checkTemplateString = (text: string) => checkWith(text, HTTP_LANGUAGE)

const scope = scopeOf({ body: { qty: 3, sku: 'AB-1', tags: ['x'], none: null }, params: { id: '7' } })

describe('isTemplateString', () => {
  it.each([['${{ body }}', true], ['a ${{b', true], ['${VAR}', false], ['$ {{ x }}', false], ['plain', false]])('%s', (text, is) => {
    expect(isTemplateString(text)).toBe(is)
  })
})

describe('checkTemplateString', () => {
  it.each([
    'plain text', '${{ body }}', 'a ${{ body.qty }} b ${{ params.id }}', "${{ '}}' }}", '${{ {a: {b: 1}} }}', '${{{a: 1}}}',
    "${{ \"${{\" }}",
  ])('accepts %s', (text) => {
    expect(checkTemplateString(text)).toEqual([])
  })

  it('reports offsets into the whole string, with the hint', () => {
    expect(checkTemplateString('order ${{ bdy.qty }}')).toEqual([
      { offset: 10, message: "unknown variable 'bdy'", hint: "did you mean 'body'?" },
    ])
  })

  it('reports every broken expression, not just the first', () => {
    const problems = checkTemplateString('${{ 1 + }} then ${{ body.x.toUpperCase() }} then ${{ ok }}')
    expect(problems.map((p) => p.offset)).toEqual([8, 27, 53])
    expect(problems[1]!.hint).toBe('use upper(x)')
  })

  it('an unterminated ${{ is reported where it opens', () => {
    expect(checkTemplateString('id: ${{ params.id')).toEqual([
      { offset: 4, message: "unterminated '${{'", hint: "close it with '}}'" },
    ])
    expect(checkTemplateString('${{ params.id } and more')[0]!.message).toMatch(/unexpected '}'|unterminated/)
  })

  it('an empty expression is an error', () => {
    expect(checkTemplateString('x ${{ }}')).toEqual([{ offset: 2, message: 'empty expression', hint: 'write an expression between ${{ and }}' }])
  })
})

describe('compileTemplate', () => {
  it('a lone expression yields its raw value, whitespace around it allowed', () => {
    expect(compileTemplate('${{ body.qty }}')(scope)).toBe(3)
    expect(compileTemplate('  ${{ body.tags }}\n')(scope)).toBe((scope.input as { tags: unknown }).tags)
    expect(compileTemplate('${{ body.none }}')(scope)).toBeNull()
    expect(compileTemplate('${{ body.missing }}')(scope)).toBeUndefined()
  })

  it('text around an expression, or several expressions, interpolate as text', () => {
    expect(compileTemplate('/orders/${{ params.id }}')(scope)).toBe('/orders/7')
    expect(compileTemplate('${{ body.sku }}${{ body.qty }}')(scope)).toBe('AB-13')
    expect(compileTemplate('[${{ body.none }}|${{ body.missing }}|${{ body.tags }}|${{ {a: 1} }}|${{ true }}]')(scope))
      .toBe('[||["x"]|{"a":1}|true]')
  })

  it('walks arrays and plain objects', () => {
    const template = compileTemplate({ sku: '${{ body.sku }}', lines: [{ qty: '${{ body.qty * 2 }}' }, 'fixed'], n: 1 })
    expect(template(scope)).toEqual({ sku: 'AB-1', lines: [{ qty: 6 }, 'fixed'], n: 1 })
  })

  it('a value without expressions is the same frozen object on every run', () => {
    const config = { status: 200, body: { ok: true, list: [1, { deep: 'x' }] }, note: 'costs ${VAR}' }
    const template = compileTemplate(config)
    const first = template(scope) as typeof config
    expect(first).toEqual(config)
    expect(template(scopeOf())).toBe(first)
    expect(Object.isFrozen(first) && Object.isFrozen(first.body) && Object.isFrozen(first.body.list[1])).toBe(true)
    expect(compileTemplate('plain')(scope)).toBe('plain')
    expect(compileTemplate(42)(scope)).toBe(42)
  })

  it('constant parts of a dynamic value are shared; the dynamic parts are fresh on every run', () => {
    const template = compileTemplate({ fixed: { a: [1] }, qty: '${{ body.qty }}' })
    const [one, two] = [template(scope), template(scope)] as { fixed: unknown }[]
    expect(one).not.toBe(two)
    expect(one!.fixed).toBe(two!.fixed)
    expect(Object.isFrozen(one!.fixed)).toBe(true)
  })

  it('a __proto__ key in config stays an own key and never becomes a prototype', () => {
    const config = JSON.parse('{"__proto__": {"polluted": "${{ body.qty }}"}, "b": "${{ body.sku }}"}')
    const out = compileTemplate(config)(scope) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.hasOwn(out, '__proto__')).toBe(true)
    expect(out.polluted).toBeUndefined()
    const constant = compileTemplate(JSON.parse('{"__proto__": {"polluted": 1}}'))(scope) as Record<string, unknown>
    expect(constant.polluted).toBeUndefined()
  })

  it('objects that are not plain data are kept as they are', () => {
    const date = new Date(0)
    expect(compileTemplate({ at: date, x: '${{ body.qty }}' })(scope)).toEqual({ at: date, x: 3 })
  })

  it('a broken expression throws ERR_CONFIG_EXPRESSION with the offset, the text and the hint', () => {
    const error = errorOf(() => compileTemplate({ deep: ['ok', 'total: ${{ body.qty * }}'] }), 'ERR_CONFIG_EXPRESSION')
    expect(error.details).toMatchObject({ offset: 22, text: 'total: ${{ body.qty * }}' })
    expect(error.message).toBe("expected an expression, found '}}' at offset 22 of 'total: ${{ body.qty * }}'")
    const hinted = errorOf(() => compileTemplate('${{ lenght(body) }}'), 'ERR_CONFIG_EXPRESSION')
    expect(hinted.message).toMatch(/unknown function 'lenght' at offset 4 .*\(did you mean 'length'\?\)/)
  })
})
