// The deploy upload parser: what a real multipart encoder (undici's FormData, curl -F) sends parses to the files with
// their paths; anything else is refused with what is wrong, never half-read.
import { describe, expect, it } from 'vitest'
import { IsletError } from '../errors.ts'
import { multipartBoundary, parseMultipart } from './multipart.ts'

/** The bytes and Content-Type undici's FormData encodes `form` to: what fetch sends. */
async function encode(form: FormData): Promise<{ body: Uint8Array; type: string }> {
  const response = new Response(form)
  return { body: new Uint8Array(await response.arrayBuffer()), type: response.headers.get('content-type')! }
}

const bytes = (text: string) => new TextEncoder().encode(text)

function refusal(run: () => unknown): IsletError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(IsletError)
    expect((error as IsletError).code).toBe('ERR_ADMIN_BAD_REQUEST')
    return error as IsletError
  }
  throw new Error('expected a refusal')
}

describe('multipart deploy bodies', () => {
  it("reads FormData's files under their paths (slashes, quotes, non-ASCII kept) and its text fields", async () => {
    const form = new FormData()
    form.append('file', new Blob(['export default 1\n']), 'index.ts')
    form.append('file', new Blob(['export const rates = { "é": 1 }\r\n--not-a-boundary\r\n']), 'lib/rates.ts')
    form.append('file', new Blob(['{}']), 'data/we"ird name.json')
    form.append('file', new Blob(['']), 'empty.ts')
    form.append('entry', 'index.ts')
    form.append('message', 'first try ✓')
    const { body, type } = await encode(form)
    const parsed = parseMultipart(body, multipartBoundary(type)!)
    expect({ ...parsed.files }).toEqual({
      'index.ts': 'export default 1\n',
      'lib/rates.ts': 'export const rates = { "é": 1 }\r\n--not-a-boundary\r\n',
      'data/we"ird name.json': '{}',
      'empty.ts': '',
    })
    expect({ ...parsed.fields }).toEqual({ entry: 'index.ts', message: 'first try ✓' })
  })

  it("reads curl -F's framing, filename* (RFC 5987) and transport padding after a boundary", () => {
    const body = bytes([
      '--xyz  ', 'Content-Disposition: form-data; name="f"; filename="ignored.ts"; filename*=UTF-8\'\'lib%2Fr%C3%A9.ts',
      'Content-Type: application/octet-stream', '', 'a', '--xyz', 'Content-Disposition: form-data; name=entry', '', 'lib/ré.ts',
      '--xyz--', 'epilogue ignored',
    ].join('\r\n'))
    const parsed = parseMultipart(body, 'xyz')
    expect({ ...parsed.files }).toEqual({ 'lib/ré.ts': 'a' })
    expect({ ...parsed.fields }).toEqual({ entry: 'lib/ré.ts' })
  })

  it('finds the boundary in the Content-Type, quoted or not, and says when it is missing or malformed', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBe('abc')
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe('a b:c')
    expect(multipartBoundary('application/json')).toBeUndefined()
    expect(refusal(() => multipartBoundary('multipart/form-data')).message).toMatch(/no boundary parameter/)
    expect(refusal(() => multipartBoundary(`multipart/form-data; boundary=${'x'.repeat(71)}`)).message).toMatch(/1-70 characters/)
  })

  it('refuses what is not parts between boundaries, saying what is wrong', () => {
    const part = (headers: string, content = 'x') => `--b\r\n${headers}\r\n\r\n${content}\r\n`
    const cases: [string, RegExp][] = [
      [`preamble\r\n${part('Content-Disposition: form-data; name="f"; filename="a.ts"')}--b--`, /does not begin with its boundary/],
      [`${part('Content-Disposition: form-data; name="f"; filename="a.ts"')}--b`, /without its closing boundary/],
      [`--b\r\nContent-Disposition: form-data; name="f"; filename="a.ts"\r\n\r\nx`, /not closed by/],
      [`--b\r\nContent-Disposition: form-data; name="f"; filename="a.ts"`, /no end to its headers/],
      [`${part('Content-Type: text/plain')}--b--`, /no 'Content-Disposition: form-data/],
      [`${part('Content-Disposition: attachment; filename="a.ts"')}--b--`, /no 'Content-Disposition: form-data/],
      [`${part('Content-Disposition: form-data; filename="a.ts"')}--b--`, /no name parameter/],
      [`${part('Content-Disposition: form-data; name="f"; filename=""')}--b--`, /empty filename/],
      [`${part('Content-Disposition: form-data; name="f"; filename="a.ts"')}${part('Content-Disposition: form-data; name="g"; filename="a.ts"')}--b--`, /file 'a.ts' is sent twice/],
      [`${part('Content-Disposition: form-data; name="entry"')}${part('Content-Disposition: form-data; name="entry"')}--b--`, /field 'entry' is sent twice/],
      [`${part('Content-Disposition: form-data; name="f"; filename="a.ts"\r\nContent-Transfer-Encoding: base64')}--b--`, /Content-Transfer-Encoding 'base64'/],
      [`${part('Content-Disposition: form-data; name="f"; filename="a.ts"\r\nContent-Type: text/plain; charset=latin1')}--b--`, /charset 'latin1'/],
      [`${part('no colon here')}--b--`, /malformed header line/],
      [`--b garbage\r\n`, /followed by something other than a line break/],
    ]
    for (const [body, message] of cases) expect(refusal(() => parseMultipart(bytes(body), 'b')).message).toMatch(message)
  })

  it('refuses a file that is not UTF-8, naming it', () => {
    const head = bytes('--b\r\nContent-Disposition: form-data; name="f"; filename="bin.ts"\r\n\r\n')
    const tail = bytes('\r\n--b--')
    const body = new Uint8Array([...head, 0xff, 0xfe, 0x00, 0xc3, ...tail])
    expect(refusal(() => parseMultipart(body, 'b')).message).toMatch(/file 'bin.ts' \(part 1\) is not UTF-8/)
  })

  it('caps the parts and the size of a header block', () => {
    const many = `${Array.from({ length: 5 }, (_, i) => `--b\r\nContent-Disposition: form-data; name="f"; filename="f${i}.ts"\r\n\r\nx\r\n`).join('')}--b--`
    expect(refusal(() => parseMultipart(bytes(many), 'b', { maxParts: 4, maxHeaderBytes: 1024 })).message).toMatch(/more than 4 parts/)
    expect(Object.keys(parseMultipart(bytes(many), 'b', { maxParts: 5, maxHeaderBytes: 1024 }).files)).toHaveLength(5)
    const long = `--b\r\nContent-Disposition: form-data; name="f"; filename="${'a'.repeat(2000)}.ts"\r\n\r\nx\r\n--b--`
    expect(refusal(() => parseMultipart(bytes(long), 'b', { maxParts: 4, maxHeaderBytes: 1024 })).message).toMatch(/longer than 1024 bytes/)
  })

  it('keeps a part named __proto__ as data', () => {
    const body = bytes('--b\r\nContent-Disposition: form-data; name="f"; filename="__proto__"\r\n\r\n{"polluted":true}\r\n--b--')
    const parsed = parseMultipart(body, 'b')
    expect(Object.keys(parsed.files)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
