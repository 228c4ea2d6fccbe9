// A transition whose action hangs (a step that ignores the abort) is charged to its own request: the request times
// out, nothing commits, and the instance's queue moves on, so the next transition of the same instance goes through.
import { afterEach, describe, expect, it } from 'vitest'
import { defineStepType, definePlugin } from '@islet/sdk'
import { writeFiles } from './support/files.ts'
import { json } from './support/app.ts'
import { startStateApp, type StateApp } from './support/state-app.ts'

/** A step that never finishes and never looks at its signal. */
const stall = definePlugin({ name: 'stall', version: '1.0.0', stepTypes: [defineStepType({
  type: 'stall.forever', configSchema: { type: 'object' }, create: () => () => new Promise(() => {}),
})] })

const APP = `apiVersion: islet/v1
modules:
  - name: jobs
    type: state.machine
    config:
      initial: open
      http: { prefix: /jobs }
      states:
        open:
          on:
            stall: { to: stuck, action: hang }
            note: open
        stuck: { terminal: true }
  - name: web
    type: http.server
    config: { port: 0, requestTimeoutMs: 300, routers: [jobs] }
pipelines:
  hang:
    steps:
      - type: stall.forever
`

let app: StateApp | undefined
let cleanup: (() => void) | undefined
afterEach(async () => {
  await app?.stop()
  cleanup?.()
})

describe('a hung action', () => {
  it('times its request out without committing, and does not hold the instance: the next transition goes through', async () => {
    const files = writeFiles({ 'app.yaml': APP })
    cleanup = files.cleanup
    app = await startStateApp(files.dir, undefined, [stall])
    const post = (path: string) => fetch(`${app!.url()}${path}`, { method: 'POST' })
    expect((await post('/jobs')).status).toBe(201)
    const created = (await json(await fetch(`${app.url()}/jobs`))).instances[0].id
    const stalled = await post(`/jobs/${created}/stall`)
    expect(stalled.status).toBe(503)
    const noted = await post(`/jobs/${created}/note`)
    expect(noted.status).toBe(200)
    expect(await json(noted)).toMatchObject({ state: 'open', version: 1 })
    const history = (await json(await fetch(`${app.url()}/jobs/${created}`))).history
    expect(history.map((h: { event: string | null }) => h.event)).toEqual([null, 'note'])
  })
})
