// The first deploy after a start paid the type checker's cold start (its worker, TypeScript, the lib and the sdk
// parsed: about a second). An app that declares slots now warms it in the background once the engine is ready; an
// app without slots never starts it.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { stopTypecheck, typecheckState } from '../runtime/slots/typecheck.ts'
import { startApp, type TestApp } from './support/app.ts'
import { appYaml, probe } from './support/slots.ts'
import { until } from './support/until.ts'

let app: TestApp | undefined
afterEach(async () => { await app?.close(); app = undefined })
afterAll(() => stopTypecheck())

describe('the type checker at start', () => {
  // First: the worker is per process, and the next test starts it.
  it('is not started by an app without slots', async () => {
    app = await startApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: web
    type: http.server
    config: { port: 0 }
` })
    expect(app.engine.status().state).toBe('ready')
    expect(typecheckState()).toBe('stopped')
  })

  it('is warmed in the background once an app with slots is ready, before any deploy', async () => {
    app = await startApp({ 'app.yaml': appYaml() }, { plugins: [probe] })
    await until(() => typecheckState() === 'warm', { ms: 30_000 })
  }, 60_000)
})
