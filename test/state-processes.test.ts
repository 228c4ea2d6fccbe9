// Two engine processes (`islet run --processes 2`) on one data dir move the same instance at once: the in-process
// queue cannot see the other process, so the version check at commit (UPDATE … WHERE version = ?) serialises them.
// No transition is lost or applied twice; each answer saw its own version.
import { request } from 'node:http'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnIslet, type RunningIslet } from './support/cli.ts'
import { writeFiles } from './support/files.ts'

const APP = `apiVersion: islet/v1
modules:
  - name: counters
    type: state.machine
    config:
      initial: open
      http: { prefix: /counters }
      states:
        open:
          on:
            bump: { to: open, action: slow, set: { by: '\${ISLET_PROCESS_INDEX}' } }
  - name: web
    type: http.server
    config: { port: 0, routers: [counters] }
pipelines:
  slow:
    steps:
      - type: set
        config: { value: '\${{ input.n }}' }
`

let running: RunningIslet | undefined
let cleanup: (() => void) | undefined
afterEach(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGKILL')
    await running.exited
  }
  cleanup?.()
})

/** One request on a fresh connection (the primary deals new connections to the processes in turn). */
function post(port: number, path: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

describe('state.machine across engine processes', () => {
  it('50 concurrent transitions of one instance, dealt over two processes, all commit once each with versions 1…50', async () => {
    const files = writeFiles({ 'app.yaml': APP })
    cleanup = files.cleanup
    running = spawnIslet(['run', 'app.yaml', '--processes', '2', '--data-dir', join(files.dir, 'data')], { cwd: files.dir, env: { LOG_LEVEL: 'debug' } })
    await running.waitFor((l) => l.msg === '2 engine processes serving', 90_000)
    const listening = await running.waitFor((l) => typeof l.url === 'string' && String(l.msg).startsWith('listening on'))
    const port = Number(new URL(String(listening.url)).port)

    expect((await post(port, '/counters', { id: 'c-1' })).status).toBe(201)
    const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => post(port, '/counters/c-1/bump', { n })))
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200))
    expect(answers.map((a) => a.body.version).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    // Both processes moved it.
    expect(new Set(answers.map((a) => a.body.data.by))).toEqual(new Set(['0', '1']))

    const read = await new Promise<any>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/counters/c-1', agent: false }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c) => { text += c })
        res.on('end', () => resolve(JSON.parse(text)))
      }).on('error', reject).end()
    })
    expect(read.version).toBe(50)
    const bumps = read.history.slice(1) as { version: number; payload: { n: number } }[]
    expect(bumps.map((h) => h.version)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(bumps.map((h) => h.payload.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
  }, 240_000)
})
