// A small, strict multipart/form-data parser for deploy uploads (RFC 7578): one part per file, its path as the
// filename, plus the text fields a deploy takes. Strict because what it accepts becomes code: a body that is not
// exactly parts between boundaries is refused with what is wrong, never guessed at. The whole body is already in
// memory (readBody's limit bounds it), so this is a scan over bytes, not a stream.
import { IsletError } from '../errors.ts'

export interface MultipartLimits {
  /** Parts in one body (files and fields together). */
  maxParts: number
  /** Bytes of one part's header block. */
  maxHeaderBytes: number
}

export const MULTIPART_LIMITS: MultipartLimits = { maxParts: 256, maxHeaderBytes: 8 * 1024 }

export interface MultipartForm {
  /** Parts that carry a filename: filename → UTF-8 text. */
  files: Record<string, string>
  /** Parts without a filename: field name → UTF-8 text. */
  fields: Record<string, string>
}

const bad = (message: string, details: Record<string, unknown> = {}) =>
  new IsletError('ERR_ADMIN_BAD_REQUEST', message, { details: { field: 'body', ...details } })

// RFC 2046: 1-70 characters from a fixed set, not ending in a space.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/

/** The boundary of a `multipart/form-data` Content-Type, or undefined when the header is another media type. */
export function multipartBoundary(contentType: string): string | undefined {
  const { type, params } = splitParams(contentType)
  if (type.toLowerCase() !== 'multipart/form-data') return undefined
  const boundary = params.find((p) => p.name === 'boundary')?.value
  if (boundary === undefined) throw bad('the multipart/form-data Content-Type has no boundary parameter (e.g. multipart/form-data; boundary=x7f3)')
  if (!BOUNDARY.test(boundary)) throw bad(`the multipart boundary '${boundary.slice(0, 80)}' is not 1-70 characters of the set RFC 2046 allows`)
  return boundary
}

/**
 * Parses `body` as multipart/form-data with `boundary`. Part bodies must be UTF-8 (a BOM is dropped); a filename may
 * hold '/' (the file's path in the deployment); the same filename or field twice is refused.
 */
export function parseMultipart(body: Uint8Array, boundary: string, limits: MultipartLimits = MULTIPART_LIMITS): MultipartForm {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const dash = Buffer.from(`--${boundary}`)
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  // Null-prototype records: a filename like __proto__ stays data (and is refused later as a path, not here).
  const form: MultipartForm = { files: Object.create(null), fields: Object.create(null) }
  if (!bytes.subarray(0, dash.length).equals(dash)) {
    throw bad(`the multipart body does not begin with its boundary '--${boundary}' (a preamble is not accepted)`)
  }
  let at = dash.length
  for (let index = 0; ; index++) {
    at = afterBoundaryLine(bytes, at, index)
    if (at < 0) return form // the closing delimiter
    if (index >= limits.maxParts) throw bad(`the multipart body has more than ${limits.maxParts} parts`, { maxParts: limits.maxParts })
    const headerEnd = bytes.indexOf('\r\n\r\n', at)
    const blank = bytes.subarray(at, at + 2).toString('latin1') === '\r\n' ? at : -1 // a part with no headers at all
    const end = blank >= 0 ? blank : headerEnd
    if (end < 0 || end - at > limits.maxHeaderBytes) {
      throw bad(end < 0 ? `part ${index + 1} of the multipart body has no end to its headers (a blank line)`
        : `part ${index + 1}'s headers are longer than ${limits.maxHeaderBytes} bytes`)
    }
    const headers = partHeaders(bytes.subarray(at, end).toString('latin1'), index)
    const contentStart = end + (blank >= 0 ? 2 : 4)
    const next = bytes.indexOf(delimiter, contentStart)
    if (next < 0) throw bad(`part ${index + 1} of the multipart body is not closed by '--${boundary}' (the body is cut short?)`)
    addPart(form, headers, bytes.subarray(contentStart, next), index)
    at = next + delimiter.length
  }
}

/** Past the boundary at `at`: -1 after the closing `--`, else where the part's headers begin. */
function afterBoundaryLine(bytes: Buffer, at: number, index: number): number {
  if (bytes[at] === 0x2d && bytes[at + 1] === 0x2d) return -1 // '--': the epilogue after it is ignored (RFC 2046)
  while (bytes[at] === 0x20 || bytes[at] === 0x09) at++ // transport padding
  if (bytes[at] !== 0x0d || bytes[at + 1] !== 0x0a) {
    throw bad(at >= bytes.length ? `the multipart body ends after part ${index} without its closing boundary (--boundary--)`
      : `a multipart boundary line is followed by something other than a line break (before part ${index + 1})`)
  }
  return at + 2
}

interface PartHeaders {
  name: string
  filename?: string
}

function partHeaders(block: string, index: number): PartHeaders {
  let disposition: string | undefined
  for (const line of block === '' ? [] : block.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw bad(`part ${index + 1} of the multipart body has a malformed header line '${line.slice(0, 80)}'`)
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'content-disposition') disposition = value
    else if (name === 'content-transfer-encoding' && !/^(7bit|8bit|binary)$/i.test(value)) {
      throw bad(`part ${index + 1} has Content-Transfer-Encoding '${value}': send the file's bytes as they are (binary)`)
    } else if (name === 'content-type') {
      const charset = splitParams(value).params.find((p) => p.name === 'charset')?.value
      if (charset !== undefined && !/^(utf-8|utf8|us-ascii)$/i.test(charset)) throw bad(`part ${index + 1} is in charset '${charset}': files are deployed as UTF-8`)
    }
  }
  const { type, params } = splitParams(disposition ?? '')
  if (type.toLowerCase() !== 'form-data') throw bad(`part ${index + 1} of the multipart body has no 'Content-Disposition: form-data; name="…"' header`)
  const name = params.find((p) => p.name === 'name')?.value
  if (name === undefined) throw bad(`part ${index + 1}'s Content-Disposition has no name parameter`)
  // filename* (RFC 5987, UTF-8'') wins over filename, as RFC 6266 says; browsers and undici send filename only.
  const extended = params.find((p) => p.name === 'filename*')?.value
  const filename = extended !== undefined ? decodeExtended(extended, index) : params.find((p) => p.name === 'filename')?.value
  return filename === undefined ? { name } : { name, filename }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function addPart(form: MultipartForm, headers: PartHeaders, content: Buffer, index: number): void {
  const label = headers.filename !== undefined ? `file '${headers.filename}'` : `field '${headers.name}'`
  let text: string
  try {
    text = utf8.decode(content)
  } catch {
    throw bad(`the ${label} (part ${index + 1}) is not UTF-8 text: deployments are source files`, { part: index + 1 })
  }
  if (headers.filename !== undefined) {
    if (headers.filename === '') throw bad(`part ${index + 1} has an empty filename: give each file its path in the deployment as the filename`)
    if (Object.hasOwn(form.files, headers.filename)) throw bad(`the ${label} is sent twice`, { file: headers.filename })
    form.files[headers.filename] = text
  } else {
    if (Object.hasOwn(form.fields, headers.name)) throw bad(`the ${label} is sent twice`, { field: headers.name })
    form.fields[headers.name] = text
  }
}

interface Param {
  name: string
  value: string
}

/**
 * `type; a=b; c="d;e"` → type 'type', params a: b and c: 'd;e' — quoted strings kept whole, with backslash escapes and the
 * %22 %0D %0A that the WHATWG form encoding writes for '"', CR and LF in names decoded.
 */
function splitParams(header: string): { type: string; params: Param[] } {
  const semi = header.indexOf(';')
  const type = (semi < 0 ? header : header.slice(0, semi)).trim()
  const params: Param[] = []
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]*))\s*/y
  for (let at = semi < 0 ? header.length : semi; at < header.length;) {
    re.lastIndex = at
    const match = re.exec(header)
    if (!match) {
      if (/^[;\s]*$/.test(header.slice(at))) break // a trailing ';'
      throw bad(`malformed header parameters '${header.slice(0, 120)}'`)
    }
    const quoted = match[2]
    const value = quoted !== undefined
      ? quoted.replace(/\\(.)/g, '$1').replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n')
      : match[3]!
    params.push({ name: match[1]!.toLowerCase(), value })
    at = re.lastIndex
  }
  return { type, params }
}

function decodeExtended(value: string, index: number): string {
  const match = /^utf-8'[^']*'(.*)$/i.exec(value)
  if (!match) throw bad(`part ${index + 1}'s filename* is not UTF-8''<percent-encoded name>`)
  try {
    return decodeURIComponent(match[1]!)
  } catch {
    throw bad(`part ${index + 1}'s filename* has malformed percent-encoding`)
  }
}
