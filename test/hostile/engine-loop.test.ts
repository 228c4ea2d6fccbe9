// Hostile corpus, the engine's own event loop: request bodies within bodyLimit that used to hold the engine's main
// thread (a validate step's ajv: backtracking patterns, O(n²) uniqueItems, O(n·m) enum, quadratic format regexes;
// deep JSON), and clients that send a request slowly. The engine runs as a real `islet run` child process; while
// each attack is answered, this process probes its /healthz and prints the latencies it saw (a figure, never an
// assertion). Each attack must be answered with its documented error, and /healthz must answer during it.
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFiles } from '../support/app.ts'
import { islet, spawnIslet, type RunningIslet } from '../support/cli.ts'
import { until } from '../support/until.ts'

const BACKTRACKING = '^([A-Za-z]+ ?)*$'
const ENUM = Array.from({ length: 3000 }, (_, k) => ({ k }))

const schemaRoute = (path: string, schema: unknown) => ({ path, schema })
const ROUTES = [
  schemaRoute('/baseline', { type: 'number' }),
  schemaRoute('/unique', { type: 'array', uniqueItems: true }),
  schemaRoute('/pattern', { type: 'object', properties: { name: { type: 'string', pattern: BACKTRACKING } } }),
  schemaRoute('/pattern-properties', { type: 'object', patternProperties: { [BACKTRACKING]: { type: 'integer' } }, additionalProperties: false }),
  schemaRoute('/enum', { type: 'array', items: { enum: ENUM } }),
  schemaRoute('/date-time', { type: 'string', format: 'iso-date-time' }),
  schemaRoute('/tree', { $ref: '#/$defs/node', $defs: { node: { type: 'array', items: { $ref: '#/$defs/node' } } } }),
  schemaRoute('/overlap', { $ref: '#/$defs/n', $defs: { n: { anyOf: [
    { type: 'array', items: { $ref: '#/$defs/n' } }, { type: 'array', maxItems: 5, items: { $ref: '#/$defs/n' } }] } } }),
]

const APP = `apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes:
${[...ROUTES.map((r) => r.path), '/echo'].map((p) => `        - { method: POST, path: ${p}, pipeline: '${p.slice(1)}' }`).join('\n')}
  - name: web
    type: http.server
    config:
      port: 0
      bodyLimit: 1mb
      requestTimeoutMs: 1000
      routers: [api]
pipelines:
${ROUTES.map((r) => `  '${r.path.slice(1)}':
    steps:
      - type: validate
        config: { schema: ${JSON.stringify(r.schema)} }
      - type: respond
        config: { body: accepted }`).join('\n')}
  echo:
    steps:
      - type: respond
        config: { body: '\${{ body }}' }
`

const MB = 1024 * 1024
let run: RunningIslet
let base: string
let cleanup: () => void

beforeAll(async () => {
  const files = writeFiles({ 'app.yaml': APP })
  cleanup = files.cleanup
  run = spawnIslet(['run', 'app.yaml', '--data-dir', join(files.dir, 'data')], { cwd: files.dir })
  base = String((await run.waitFor((l) => typeof l.url === 'string', 30_000)).url)
}, 40_000)

afterAll(async () => {
  run.child.kill('SIGTERM')
  // An engine whose event loop is held cannot run its SIGTERM handler: do not leave it behind.
  const stuck = setTimeout(() => run.child.kill('SIGKILL'), 10_000)
  await run.exited
  clearTimeout(stuck)
  cleanup()
}, 20_000)

/**
 * Sends `body` to `path` while probing /healthz one request after another; prints the probes' latencies and returns
 * the attack's answer and how many probes were answered 200 while it ran.
 */
async function attack(name: string, path: string, body: string): Promise<{ status: number; error: any; probes: number }> {
  expect(Buffer.byteLength(body)).toBeLessThan(MB) // within bodyLimit: the server must read it
  const latencies: number[] = []
  let done = false
  const failures: string[] = []
  const prober = (async () => {
    while (!done) {
      const started = performance.now()
      const res = await fetch(`${base}/healthz`).catch((e: Error) => { failures.push(String(e.cause ?? e.message)); return undefined })
      if (res?.status === 200) latencies.push(performance.now() - started)
      else if (res) failures.push(`status ${res.status}`)
      await res?.arrayBuffer()
    }
  })()
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const answer: any = await res.json()
  // One probe more after the answer: the engine still serves once the attack is over.
  await until(() => latencies.length > 0, { ms: 20_000 })
  done = true
  await prober
  const sorted = [...latencies].sort((a, b) => a - b)
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1)
  console.log(`[engine-loop] ${name}: ${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB body answered ${res.status}; ` +
    `/healthz during it: ${latencies.length} probes, p50 ${pct(0.5)} ms, max ${pct(1)} ms${failures.length ? `; failed: ${failures.join(', ')}` : ''}`)
  return { status: res.status, error: answer.error, probes: latencies.length }
}

describe('bodies within bodyLimit cannot hold the engine\'s event loop', () => {
  it('baseline for the figures: a 1 MB string read, parsed and refused by a trivial schema', async () => {
    const r = await attack('baseline', '/baseline', JSON.stringify('a'.repeat(MB - 100)))
    expect(r.status).toBe(400)
  }, 60_000)

  it('uniqueItems over ~70,000 distinct objects (pairwise deep comparison was O(n²): 7.3 s for 20,000)', async () => {
    // ajv compared each item with every earlier one from the end of the array: a duplicate at the front is found last.
    const items = Array.from({ length: 70_000 }, (_, i) => `{"a":${i}}`)
    const r = await attack('uniqueItems', '/unique', `[{"a":0},${items.join(',')}]`)
    expect(r.status).toBe(400)
    expect(r.error).toMatchObject({ code: 'ERR_VALIDATION', details: [{ path: '', message: expect.stringMatching(/duplicate items/) }] })
  }, 60_000)

  it('a backtracking pattern over a string of ~1 MB (exponential on ECMAScript\'s engine: 3.7 s at 27 characters)', async () => {
    const r = await attack('pattern', '/pattern', JSON.stringify({ name: `${'a'.repeat(MB - 100)}!` }))
    expect(r.status).toBe(400)
    expect(r.error.details).toEqual([{ path: '/name', message: `must match pattern "${BACKTRACKING}"` }])
  }, 60_000)

  it('a backtracking patternProperties key against thousands of long property names', async () => {
    const keys = Array.from({ length: 1_000 }, (_, i) => `"${'a'.repeat(900)}${i}!":1`)
    const r = await attack('patternProperties', '/pattern-properties', `{${keys.join(',')}}`)
    expect(r.status).toBe(400)
    expect(r.error.code).toBe('ERR_VALIDATION')
  }, 60_000)

  it('an enum of 3,000 objects checked against 90,000 items (every item compared with every value was O(n·m); every failing item an error object)', async () => {
    const r = await attack('enum', '/enum', `[${Array.from({ length: 90_000 }, () => '{"k":-1}').join(',')}]`)
    expect(r.status).toBe(400)
    expect(r.error).toMatchObject({ code: 'ERR_VALIDATION', details: [{ path: '/0', message: 'must be equal to one of the allowed values' }] })
    expect(r.error.message).toMatch(/the first problem; the value is too large to list them all/)
  }, 60_000)

  it('a 1 MB string against a format whose regex is quadratic (iso-date-time)', async () => {
    const r = await attack('format', '/date-time', JSON.stringify(`${' '.repeat(MB - 100)}!`))
    expect(r.status).toBe(400)
    expect(r.error.details).toEqual([{ path: '', message: 'must match format "iso-date-time"' }])
  }, 60_000)

  it('recursion through overlapping anyOf branches (2^depth evaluations: 28 s at depth 22) stops at the deadline', async () => {
    const r = await attack('overlapping anyOf', '/overlap', `${'['.repeat(200)}1${']'.repeat(200)}`)
    expect(r.status).toBe(400)
    expect(r.error).toMatchObject({ code: 'ERR_VALIDATION_TOO_COSTLY', message: 'request body could not be checked against the schema within 250 ms' })
    await until(() => run.logs.some((l) => String(l.msg).includes('gave up after 250 ms')))
  }, 60_000)

  it('JSON nested 30,000 deep, to a recursive schema and to a route that echoes it: refused before parsing', async () => {
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`
    for (const path of ['/tree', '/echo']) {
      const r = await attack(`deep JSON to ${path}`, path, deep)
      expect(r.status).toBe(400)
      expect(r.error).toMatchObject({ code: 'ERR_HTTP_BODY_TOO_DEEP', details: { maxDepth: 256 } })
    }
  }, 60_000)
})

describe('a request that arrives slowly is cut off by requestTimeoutMs', () => {
  /** Opens a raw connection, writes `head`, then one byte of `trickle` every 100 ms until the socket closes. */
  function slowClient(head: string, trickle: string): Promise<string> {
    return new Promise((resolve) => {
      const { port, hostname } = new URL(base)
      const socket = connect(Number(port), hostname)
      let answer = ''
      let timer: NodeJS.Timeout | undefined
      socket.on('data', (d) => { answer += d })
      socket.on('error', () => {})
      socket.on('close', () => { clearInterval(timer); resolve(answer) })
      socket.write(head)
      let i = 0
      timer = setInterval(() => {
        if (i < trickle.length && !socket.destroyed) socket.write(trickle[i++]!)
      }, 100)
    })
  }

  it('a body trickled a byte at a time is answered 503 ERR_HTTP_REQUEST_TIMEOUT, and the connection closed', async () => {
    // 200 bytes at 10 bytes/s would take 20 s; the timeout is 1 s. Before, the body was read to its end and echoed.
    const body = JSON.stringify({ padding: 'x'.repeat(186) })
    const answer = await slowClient(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body)
    expect(answer).toMatch(/^HTTP\/1.1 503 /)
    expect(answer.toLowerCase()).toContain('connection: close')
    const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
    expect(json.error).toMatchObject({ code: 'ERR_HTTP_REQUEST_TIMEOUT', requestId: expect.any(String) })
  }, 30_000)

  it('headers trickled a byte at a time get Node\'s 408 or a closed connection, never a handled request', async () => {
    const head = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: ${'y'.repeat(300)}\r\nContent-Length: 2\r\n\r\n{}`
    const answer = await slowClient('', head)
    expect(answer === '' || /^HTTP\/1.1 408 /.test(answer)).toBe(true)
  }, 60_000)
})

describe('validate schemas are vetted when the config loads', () => {
  it('a pattern the linear-time engine cannot run is refused at its file:line:col', () => {
    const { dir, cleanup: done } = writeFiles({
      'app.yaml': `apiVersion: islet/v1
pipelines:
  check:
    steps:
      - type: validate
        config:
          schema:
            type: object
            properties:
              code: { type: string, pattern: '^(?=.*[0-9])[a-z0-9]+$' }
            patternProperties:
              '^(a)\\1$': { type: string }
`,
    })
    const r = islet(['validate', 'app.yaml'], { cwd: dir })
    done()
    expect(r.status).toBe(1)
    const out = r.stdout + r.stderr
    expect(out).toMatch(/app\.yaml:10:46 error ERR_CONFIG_STEP_CHECK pattern '\^\(\?=\.\*\[0-9\]\)\[a-z0-9\]\+\$' cannot run on the linear-time regular expression engine/)
    expect(out).toMatch(/app\.yaml:12:15 error ERR_CONFIG_STEP_CHECK pattern '\^\(a\)\\1\$' cannot run/)
  })
})
