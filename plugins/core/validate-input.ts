// What a validate step checks, told from its `value` template when the step is created: the request body (strict),
// or the query string or route parameters, which arrive as text and are converted to the schema's types.

/** The value's origin: how errors name it, and whether its text is converted to the schema's types. */
export interface ValidatedInput {
  /** `request body`, `input`, `query parameter`, `route parameter` or `value`: what messages call it. */
  readonly what: string
  /** The run's main value (`${{ input }}`): an HTTP run's is its request body, and messages say so. */
  readonly runInput?: boolean
  /** Query and route parameters: strings converted to the schema's types, `default`s filled in. */
  readonly coerce: boolean
  /** The parameter when the value is one (`${{ query.page }}`): named in messages, which then have no path. */
  readonly parameter?: string
}

const BODY = /^\s*\$\{\{\s*body\s*\}\}\s*$/
const INPUT = /^\s*\$\{\{\s*input\s*\}\}\s*$/
/** `${{ query }}`, `${{ params }}`, or one of their members: `${{ query.page }}`. */
const PARAMETERS = /^\s*\$\{\{\s*(query|params)(?:\s*\.\s*([A-Za-z_$][\w$]*))?\s*\}\}\s*$/

/** From the `value` template as written (the loader fills in `${{ input }}`), and an explicit `coerce:` if any. */
export function validatedInput(source: unknown, coerce: boolean | undefined): ValidatedInput {
  const text = typeof source === 'string' ? source : ''
  const parameters = PARAMETERS.exec(text)
  if (parameters) {
    const what = parameters[1] === 'query' ? 'query parameter' : 'route parameter'
    return parameters[2] === undefined ? { what, coerce: coerce ?? true } : { what, coerce: coerce ?? true, parameter: parameters[2] }
  }
  if (INPUT.test(text)) return { what: 'input', runInput: true, coerce: coerce ?? false }
  return { what: BODY.test(text) ? 'request body' : 'value', coerce: coerce ?? false }
}

/** `/limit` → `limit`; `/tags/1` → `tags[1]`; `` → undefined. JSON Pointer escapes undone. */
export function parameterAt(path: string): string | undefined {
  if (path === '') return undefined
  const [name, ...rest] = path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  return `${name}${rest.map((r) => (/^\d+$/.test(r) ? `[${r}]` : `.${r}`)).join('')}`
}

/** The value at a JSON Pointer in `data` (what the caller sent, before any conversion), or undefined. */
export function valueAt(data: unknown, path: string): unknown {
  let at = data
  for (const part of path === '' ? [] : path.slice(1).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~')
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined
    at = (at as Record<string, unknown>)[key]
  }
  return at
}

/** What the caller sent, for a message: text quoted, anything else as JSON; cut to 60 characters. */
export function sent(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing'
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}
