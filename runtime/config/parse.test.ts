// Strict YAML parsing and locating paths inside a parsed file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { locate, locateOffset } from './locate.ts'
import { parseYaml, readYamlFile, toValue, type ParsedFile } from './parse.ts'

function parsed(text: string): ParsedFile {
  const result = parseYaml('/app.yaml', text)
  expect(result.diagnostics).toEqual([])
  return result.parsed!
}

const codes = (text: string) => parseYaml('/app.yaml', text).diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`)

/** A billion-laughs document: `levels` anchors, each aliasing the previous one `fanout` times. */
function laughs(levels: number, fanout: number): string {
  const lines = ['a: &a ["lol"]']
  for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array(fanout).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`)
  return `${lines.join('\n')}\n`
}

describe('parseYaml', () => {
  // Expanded, it would never finish: that it returns at all, at the first alias past the cap, is the point.
  it('rejects a billion-laughs document before anything is expanded', () => {
    const result = parseYaml('/app.yaml', laughs(30, 10)) // 10^29 nodes if expanded
    expect(result.parsed).toBeUndefined()
    expect(result.diagnostics).toMatchObject([{ code: 'ERR_CONFIG_ALIAS_LIMIT', line: 5, col: 25 }]) // the 4th *l3 crosses 10,000 nodes
  })

  it('accepts honest anchors and aliases', () => {
    const file = parsed('base: &cors { origins: ["*"], credentials: false }\na: *cors\nb: *cors\n')
    expect(toValue(file)).toEqual({ base: { origins: ['*'], credentials: false },
      a: { origins: ['*'], credentials: false }, b: { origins: ['*'], credentials: false } })
  })

  it('rejects an alias inside the node it names (a cyclic structure)', () => {
    expect(codes('a: &x [1, *x]\n')).toEqual(['1:11 ERR_CONFIG_ALIAS_LIMIT'])
  })

  it('rejects an alias with no anchor before it, where it stands', () => {
    expect(codes('a: 1\nb: *nope\n')).toEqual(['2:4 ERR_CONFIG_YAML_SYNTAX'])
  })

  it('reports every duplicate key at its second occurrence', () => {
    const { diagnostics } = parseYaml('/app.yaml', 'a: 1\nb:\n  c: 1\n  c: 2\na: 3\n')
    expect(diagnostics.map((d) => [d.line, d.col, d.code, d.message])).toEqual([
      [4, 3, 'ERR_CONFIG_DUPLICATE_KEY', "duplicate key 'c', first defined at line 3"],
      [5, 1, 'ERR_CONFIG_DUPLICATE_KEY', "duplicate key 'a', first defined at line 1"],
    ])
  })

  it('refuses tags outside the core schema, also those yaml resolves silently', () => {
    expect(codes('a: !!timestamp 2001-12-14\nb: !!set { x }\nc: !!str 1\nd: !!int "2"\n'))
      .toEqual(['1:4 ERR_CONFIG_TAG', '2:4 ERR_CONFIG_TAG'])
  })

  it('keeps core scalars as YAML 1.2 reads them (no 1.1 yes/no booleans, no sexagesimals)', () => {
    expect(toValue(parsed('a: yes\nb: on\nc: 1:30\nd: 0o17\ne: ~\nf: 1e3\n')))
      .toEqual({ a: 'yes', b: 'on', c: '1:30', d: 15, e: null, f: 1000 })
  })

  it('reports a syntax error with its line and column', () => {
    expect(codes('a:\n  - 1\n - 2\n')).toContainEqual(expect.stringMatching(/^3:\d+ ERR_CONFIG_YAML_SYNTAX$/))
  })

  it('refuses a file holding several documents', () => {
    expect(codes('a: 1\n---\nb: 2\n')).toEqual(['2:1 ERR_CONFIG_YAML_SYNTAX'])
  })
})

describe('locate', () => {
  const file = parsed([
    'modules:', //                       1
    '  - name: web', //                  2
    '    config:', //                    3
    '      port: 8080', //               4
    '      hosts: [a, "b"]', //          5
    'shared: &s { x: 1 }', //            6
    'alias: *s', //                      7
  ].join('\n'))
  const at = (path: (string | number)[], opts?: { key?: boolean }) => {
    const { line, col } = locate(file, path, opts)
    return `${line}:${col}`
  }

  it('points at values, following sequences by index', () => {
    expect(at(['modules', 0, 'config', 'port'])).toBe('4:13')
    expect(at(['modules', '0', 'config', 'hosts', 1])).toBe('5:18')
  })

  it('points at the key when asked (unknown-key errors)', () => {
    expect(at(['modules', 0, 'config', 'port'], { key: true })).toBe('4:7')
  })

  it('points at the nearest existing mapping for a missing key', () => {
    expect(at(['modules', 0, 'config', 'missing'])).toBe('4:7')
    expect(at(['modules', 0, 'nothing', 'deeper'])).toBe('2:5')
  })

  it('follows aliases', () => {
    expect(at(['alias', 'x'])).toBe('6:17')
  })

  it('places an offset inside quoted and plain scalars exactly', () => {
    const text = parsed('a: "x ${{ y }}"\nb: x ${{ y }}\nc: "esc\\taped ${{ y }}"\n')
    const col = (key: string, value: string) => locateOffset(text, [key], value, value.indexOf('y')).col
    expect(col('a', 'x ${{ y }}')).toBe(11)
    expect(col('b', 'x ${{ y }}')).toBe(10)
    // Escapes make the source differ from the value: fall back to the scalar's start rather than guess.
    expect(col('c', 'esc\taped ${{ y }}')).toBe(4)
  })

  it('places an offset inside a literal block on its own line', () => {
    const text = parsed('a: |\n  one\n    two ${{ x }}\n')
    expect(locateOffset(text, ['a'], 'one\n  two ${{ x }}\n', 'one\n  two ${{ '.length)).toMatchObject({ line: 3, col: 13 })
  })
})

describe('readYamlFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'islet-parse-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('refuses a file over the cap without reading it', async () => {
    writeFileSync(join(dir, 'big.yaml'), `a: "${'x'.repeat(2000)}"\n`)
    expect(await readYamlFile(join(dir, 'big.yaml'), 1024)).toMatchObject({ failure: { code: 'ERR_CONFIG_TOO_LARGE' } })
    expect(await readYamlFile(join(dir, 'big.yaml'))).toHaveProperty('text')
  })

  it('says a missing file does not exist', async () => {
    expect(await readYamlFile(join(dir, 'none.yaml')))
      .toMatchObject({ failure: { code: 'ERR_CONFIG_FILE_NOT_FOUND', message: expect.stringContaining('does not exist') } })
  })
})
