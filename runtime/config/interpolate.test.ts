// Environment interpolation: the reference forms, errors, typing, and that values never become structure.
import { describe, expect, it } from 'vitest'
import { interpolate, retype, substitute } from './interpolate.ts'
import { parseYaml, toValue } from './parse.ts'

const env = { HOST: 'db.local', PORT: '5432', EMPTY: '', NESTED: 'a: 1\nb: [2]', BRACES: '{ x: 1 }' }

describe('substitute', () => {
  it.each([
    ['${HOST}:${PORT}', 'db.local:5432'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'], // empty counts as unset for :-
    ['${EMPTY}', ''], // …but not for a plain reference
    ['${HOST:-}', 'db.local'],
    ['$${HOST}', '${HOST}'],
    ['cost: $5, $HOST, $$', 'cost: $5, $HOST, $$'],
    ['${{ body.x }}', '${{ body.x }}'],
    ['${HOST}/${{ params.id }}/${PORT}', 'db.local/${{ params.id }}/5432'],
    ['${{ default(x, "${HOST}") }}', '${{ default(x, "${HOST}") }}'],
  ])('%s → %s', (text, value) => {
    const result = substitute(text, env)
    expect(result.problems).toEqual([])
    expect(result.value).toBe(value)
  })

  it('reports every unset variable, each at its offset', () => {
    expect(substitute('${A}-${HOST}-${B}', env).problems).toEqual([
      expect.objectContaining({ offset: 0, code: 'ERR_CONFIG_ENV_MISSING', message: 'environment variable A is not set' }),
      expect.objectContaining({ offset: 13, code: 'ERR_CONFIG_ENV_MISSING', message: 'environment variable B is not set' }),
    ])
  })

  it('uses the author\'s message for ${VAR:?message}, also when the variable is empty', () => {
    expect(substitute('${EMPTY:?needs a value}', env).problems)
      .toMatchObject([{ code: 'ERR_CONFIG_ENV_MISSING', message: 'EMPTY: needs a value' }])
    expect(substitute('${HOST:?needs a value}', env)).toMatchObject({ value: 'db.local', problems: [] })
  })

  it.each([
    ['${body.x}', 'runtime expressions are written ${{ body.x }}'],
    ['${ HOST }', 'remove the spaces: ${HOST}'],
    ['${}', 'the name is missing'],
    ['${1X}', "starts with a letter or '_'"],
    ['${HOST-x}', 'unsupported operator'],
    ['${A:-${B}}', 'cannot contain another'],
    ['x ${ FOO', "close it with '}', e.g. ${FOO}"],
  ])('%s is malformed: %s', (text, hint) => {
    const [problem] = substitute(text, env).problems
    expect(problem).toMatchObject({ code: 'ERR_CONFIG_ENV_SYNTAX', offset: text.indexOf('${') })
    expect(problem!.hint).toContain(hint)
  })

  it('keeps scanning after a malformed reference', () => {
    expect(substitute('${a.b} ${MISSING}', env).problems.map((p) => p.code))
      .toEqual(['ERR_CONFIG_ENV_SYNTAX', 'ERR_CONFIG_ENV_MISSING'])
  })

  it('records the variables it consulted, unset ones too', () => {
    expect([...substitute('${HOST} ${NOPE:-x}', env).used]).toEqual([['HOST', 'db.local'], ['NOPE', undefined]])
  })
})

describe('retype', () => {
  it.each([
    ['8080', 8080], ['-1', -1], ['0x1F', 31], ['0o17', 15], ['1.5', 1.5], ['1e3', 1000], ['.5', 0.5],
    ['true', true], ['FALSE', false],
    ['null', 'null'], ['~', '~'], ['yes', 'yes'], ['.inf', '.inf'], ['1_000', '1_000'], ['[1]', '[1]'],
    ['12345678901234567890', '12345678901234567890'], ['', ''],
  ])('%j → %j', (text, value) => expect(retype(text)).toEqual(value))
})

describe('interpolate', () => {
  function load(text: string, vars: Record<string, string> = env) {
    const { parsed } = parseYaml('/app.yaml', text)
    const result = interpolate(parsed!, vars)
    return { ...result, value: toValue(parsed!) }
  }

  it('types a plain scalar that is one reference, and nothing else', () => {
    const { value } = load([
      'port: ${PORT}', 'quoted: "${PORT}"', 'single: \'${PORT}\'', 'mixed: ${PORT}0 ', 'list:\n  - ${PORT}\n  - "${PORT}"',
      'flag: ${FLAG:-true}', 'block: |\n  ${PORT}',
    ].join('\n'))
    expect(value).toEqual({ port: 5432, quoted: '5432', single: '5432', mixed: '54320', list: [5432, '5432'],
      flag: true, block: '5432\n' })
  })

  it('cannot inject structure: a value holding YAML stays one string', () => {
    expect(load('a: ${NESTED}\nb: ${BRACES}\n').value).toEqual({ a: 'a: 1\nb: [2]', b: '{ x: 1 }' })
  })

  it('leaves keys alone', () => {
    expect(load('${HOST}: ${HOST}\n').value).toEqual({ '${HOST}': 'db.local' })
  })

  it('reports each problem at its place in the file, with the dotted path', () => {
    const { diagnostics, failed } = load('a:\n  - x: "${ONE}/${TWO}"\n  - ${THREE:?three is required}\n', {})
    expect(diagnostics.map((d) => [d.line, d.col, d.code, d.path])).toEqual([
      [2, 9, 'ERR_CONFIG_ENV_MISSING', 'a.0.x'],
      [2, 16, 'ERR_CONFIG_ENV_MISSING', 'a.0.x'],
      [3, 5, 'ERR_CONFIG_ENV_MISSING', 'a.1'],
    ])
    expect([...failed]).toEqual(['a.0.x', 'a.1'])
  })
})
