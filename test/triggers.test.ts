// Triggers registered by plugins: a `tick` trigger type and a module that runs its pipeline for it, next to HTTP.
// Pipelines are trigger-neutral (input, meta, locals, steps); a trigger's own variables are checked against every
// trigger that runs the pipeline when the config loads, and a run carrying undeclared view names is refused.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  defineModuleType, definePlugin, defineTrigger, pipelineRef, type PipelineResponse, type RunInput,
} from '@islet/sdk'
import { loadConfig } from '../runtime/config/load.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { isIsletError } from '../runtime/errors.ts'
import { json, openTestApp, writeFiles, type OpenedApp } from './support/app.ts'

interface Ticker {
  /** Runs the module's pipeline for one tick; `run` overrides parts of what the trigger hands it. */
  fire(n: number, run?: Partial<RunInput>): Promise<PipelineResponse>
}

/** A third-party-style clock plugin: the `tick` trigger type and the module type that starts its runs. */
const clock = definePlugin({
  name: 'clock', version: '1.0.0',
  triggers: [defineTrigger({ name: 'tick', variables: ['tick'], meta: { type: 'object', properties: { at: { type: 'string' } } } })],
  moduleTypes: [defineModuleType<{ pipeline: string }, Ticker>({
    type: 'clock.ticker',
    configSchema: {
      type: 'object', additionalProperties: false, required: ['pipeline'],
      properties: { pipeline: pipelineRef('the pipeline each tick runs', { trigger: 'tick' }) },
    },
    create(config, ctx) {
      const pipeline = ctx.pipeline(config.pipeline)
      return {
        fire: (n, run = {}) => pipeline.run({
          trigger: 'tick', id: `tick-${n}`, input: { n }, meta: { at: '2026-01-01T00:00:00Z' }, view: { tick: n }, ...run,
        }, { logger: silentLogger() }),
      }
    },
  })],
})

const app = (pipelines: string, extraModules = '') => `apiVersion: islet/v1
modules:
  - name: ticker
    type: clock.ticker
    config: { pipeline: on-tick }
${extraModules}pipelines:
${pipelines}`

async function diagnosticsOf(yaml: string) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': yaml })
  try {
    const registry = createBuiltinRegistry()
    registry.register(clock)
    return (await loadConfig(join(dir, 'app.yaml'), { registry, env: {} })).diagnostics
  } finally {
    cleanup()
  }
}

let opened: OpenedApp | undefined
afterEach(async () => {
  await opened?.close()
  opened = undefined
})

describe('a trigger type registered by a plugin', () => {
  it("runs a pipeline with the run's input, meta and locals and the trigger's own variable", async () => {
    opened = await openTestApp({ 'app.yaml': app(`  on-tick:
    steps:
      - type: respond
        config:
          body: { n: '\${{ input.n * 10 }}', at: '\${{ meta.at }}', tick: '\${{ tick }}', locals: '\${{ locals }}' }
`) }, { plugins: [clock] })
    await opened.started
    const response = await opened.engine.module<Ticker>('ticker').fire(4)
    expect(response).toMatchObject({ status: 200, body: { n: 40, at: '2026-01-01T00:00:00Z', tick: 4, locals: {} } })
  })

  it('refuses a run whose view carries a name its trigger type does not declare, or that names an unknown trigger', async () => {
    opened = await openTestApp({ 'app.yaml': app(`  on-tick:
    steps:
      - type: respond
        config: { body: '\${{ input }}' }
`) }, { plugins: [clock] })
    await opened.started
    const ticker = opened.engine.module<Ticker>('ticker')
    const undeclared = await ticker.fire(1, { view: { tick: 1, body: { n: 1 } } }).catch((e: unknown) => e)
    expect(isIsletError(undeclared, 'ERR_PIPELINE_VIEW_UNDECLARED')).toBe(true)
    expect((undeclared as Error).message).toContain("view variable 'body', which that trigger type does not declare")
    const unknown = await ticker.fire(1, { trigger: 'cron', view: {} }).catch((e: unknown) => e)
    expect(isIsletError(unknown, 'ERR_PIPELINE_UNKNOWN_TRIGGER')).toBe(true)
  })

  it('a pipeline an event-like trigger runs that reads ${{ body }} is refused at file:line:col, pointing to ${{ input }}', async () => {
    const diagnostics = await diagnosticsOf(app(`  on-tick:
    steps:
      - type: respond
        config: { body: { n: '\${{ body.n }}' } }
`))
    expect(diagnostics).toHaveLength(1)
    expect(diagnostics[0]).toMatchObject({
      code: 'ERR_CONFIG_TRIGGER_VARIABLE', line: 10, col: 35, path: 'pipelines.on-tick.steps.0.config.body.n',
      message: expect.stringContaining("pipeline 'on-tick' reads 'body', but trigger 'tick' runs it (at app.yaml:5:25)"),
      hint: expect.stringContaining('use ${{ input }}'),
    })
  })

  it("an unknown variable in a pipeline only a plugin's trigger runs: the hint lists that trigger's variables, not HTTP's", async () => {
    const diagnostics = await diagnosticsOf(app(`  on-tick:
    steps:
      - type: respond
        config: { body: '\${{ bogus }}' }
`))
    expect(diagnostics).toMatchObject([{ code: 'ERR_CONFIG_EXPRESSION', message: "unknown variable 'bogus'", path: 'pipelines.on-tick.steps.0.config.body',
      hint: 'the runs of trigger tick have input, meta, locals, steps, tick' }])
  })

  it("validate and component steps default to the run's input, so an event-like trigger's pipeline can use them as is", async () => {
    expect(await diagnosticsOf(app(`  on-tick:
    steps:
      - type: validate
        config: { schema: { type: object, required: [n] } }
      - type: respond
        config: { body: '\${{ steps }}' }
`))).toEqual([])
    opened = await openTestApp({ 'app.yaml': app(`  on-tick:
    steps:
      - name: checked
        type: validate
        config: { schema: { type: object, required: [n] } }
      - type: respond
        config: { body: '\${{ steps.checked }}' }
`) }, { plugins: [clock] })
    await opened.started
    expect(await opened.engine.module<Ticker>('ticker').fire(2)).toMatchObject({ body: { n: 2 } })
  })

  it('a pipeline both HTTP and the tick run may read only what both have; one no trigger names may read any', async () => {
    const router = `  - name: api
    type: http.router
    config: { routes: [{ method: POST, path: /tick, pipeline: on-tick }] }
`
    const diagnostics = await diagnosticsOf(app(`  on-tick:
    steps:
      - if: \${{ tick > 1 && params.id != null }}
        then: [{ type: respond, config: { body: '\${{ input }}' } }]
  unused:
    steps:
      - type: respond
        config: { body: '\${{ body }}' }
`, router))
    expect(diagnostics.map((d) => [d.code, d.line, d.message.match(/reads '\w+', but trigger '\w+'/)?.[0]])).toEqual([
      ['ERR_CONFIG_TRIGGER_VARIABLE', 12, "reads 'tick', but trigger 'http'"],
      ['ERR_CONFIG_TRIGGER_VARIABLE', 12, "reads 'params', but trigger 'tick'"],
    ])
  })

  it('a module type whose pipelineRef names a trigger no plugin declares is reported at the reference', async () => {
    const cron = definePlugin({ name: 'cron', version: '1.0.0', moduleTypes: [defineModuleType<{ pipeline: string }>({
      type: 'cron.job', configSchema: { type: 'object', properties: { pipeline: pipelineRef('runs it', { trigger: 'cron' }) } }, create: () => ({}),
    })] })
    const { dir, cleanup } = writeFiles({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: nightly
    type: cron.job
    config: { pipeline: p }
pipelines:
  p: { steps: [{ type: respond, config: { body: '\${{ input }}' } }] }
` })
    try {
      const registry = createBuiltinRegistry()
      registry.register(cron)
      const { diagnostics } = await loadConfig(join(dir, 'app.yaml'), { registry, env: {} })
      expect(diagnostics).toMatchObject([{ code: 'ERR_PLUGIN_INVALID', line: 5, col: 25,
        message: "this module runs pipeline 'p' for trigger 'cron', which no registered plugin declares" }])
    } finally {
      cleanup()
    }
  })

  it('HTTP pipelines keep ${{ body }}, ${{ params }} and ${{ request }}, and also see the trigger-neutral input and meta', async () => {
    opened = await openTestApp({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config: { routes: [{ method: POST, path: /things/:id, pipeline: thing }] }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  thing:
    steps:
      - type: respond
        config:
          body: { same: '\${{ body == input }}', id: '\${{ params.id }}', method: '\${{ meta.method }}', path: '\${{ request.path }}', rid: '\${{ request.id }}' }
` })
    await opened.started
    const res = await fetch(`${opened.url()}/things/7`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'r-7' }, body: '"x"' })
    expect(await json(res)).toEqual({ same: true, id: '7', method: 'POST', path: '/things/7', rid: 'r-7' })
  })
})
