// schedule.cron on a manual clock (createSchedulePlugin({ clock })): no test waits for wall time. Overlap and missed
// policies, a restart on the same data dir, two engines sharing one data dir firing each time once, jitter, DST and
// time zones, and bad cron expressions refused at file:line:col.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Plugin } from '@islet/sdk'
import { openApp } from '../runtime/app.ts'
import { BUILTIN_PLUGINS, createBuiltinRegistry } from '../runtime/builtins.ts'
import { loadConfig } from '../runtime/config/load.ts'
import type { Engine } from '../runtime/engine/engine.ts'
import { createRegistry } from '../runtime/plugins/registry.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { createManualClock, createSchedulePlugin, type CronModule, type JobStatus, type ManualClock } from '../plugins/schedule/index.ts'
import { compileSchedule } from '../plugins/schedule/cron.ts'
import { writeFiles } from './support/app.ts'
import { probePlugin } from './support/probe-plugin.ts'
import { until } from './support/until.ts'
import { islet } from './support/cli.ts'

const T = (iso: string) => Date.parse(iso)
const ISO = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString())

const engines: Engine[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop()
  for (const cleanup of cleanups.splice(0)) cleanup()
})

function appDir(yaml: string): string {
  const { dir, cleanup } = writeFiles({ 'app.yaml': yaml })
  cleanups.push(cleanup)
  return dir
}

/** Starts the app in `dir` (data in dir/data) with schedule.cron on `clock` in place of the system clock's. */
async function start(dir: string, clock: ManualClock, plugins: Plugin[], random = () => 0): Promise<Engine> {
  const registry = createRegistry()
  for (const p of BUILTIN_PLUGINS) if (p.name !== 'schedule') registry.register(p)
  registry.register(createSchedulePlugin({ clock, random }))
  for (const p of plugins) registry.register(p)
  const engine = await openApp(join(dir, 'app.yaml'), { logger: silentLogger(), registry, dataDir: join(dir, 'data'), env: {} })
  engines.push(engine)
  await engine.start()
  return engine
}

const jobOf = (engine: Engine, module = 'cron'): JobStatus => engine.module<CronModule>(module).status().jobs[0]!

const app = (job: string, steps = '[{ type: probe.record }, { type: probe.gate }]') => `apiVersion: islet/v1
modules:
  - name: cron
    type: schedule.cron
    config:
      jobs:
        - { name: tick, pipeline: work, ${job} }
pipelines:
  work:
    steps: ${steps}
`

describe('schedule.cron overlap', () => {
  /** An every-minute job with `overlap`: its 10:01 run is held at the gate when 10:02 comes. */
  async function secondTimeWhileFirstRuns(overlap: string) {
    const clock = createManualClock('2026-03-02T10:00:30Z')
    const probe = probePlugin()
    const engine = await start(appDir(app(`cron: '* * * * *', overlap: ${overlap}`)), clock, [probe.plugin])
    clock.set(T('2026-03-02T10:01:00Z'))
    await until(() => probe.gate.inside === 1)
    clock.set(T('2026-03-02T10:02:00Z'))
    return { clock, probe, engine }
  }

  it('skip: a time that comes while the previous run still goes is skipped and counted; the next one runs', async () => {
    const { clock, probe, engine } = await secondTimeWhileFirstRuns('skip, input: { report: daily }')
    expect(jobOf(engine)).toMatchObject({ running: 1, skipped: 1, fired: 1 })
    probe.release()
    await until(() => jobOf(engine).completed === 1)
    clock.set(T('2026-03-02T10:03:00Z'))
    await until(() => jobOf(engine).completed === 2)
    expect(probe.seen.map((s) => s.meta.scheduledAt)).toEqual(['2026-03-02T10:01:00.000Z', '2026-03-02T10:03:00.000Z'])
    expect(probe.seen[0]).toEqual({ input: { report: 'daily' }, meta: { job: 'tick', module: 'cron', scheduledAt: '2026-03-02T10:01:00.000Z', firedAt: '2026-03-02T10:01:00.000Z' } })
    expect(probe.gate.peak).toBe(1)
  })

  it('queue: that time runs once the previous run ended', async () => {
    const { probe, engine } = await secondTimeWhileFirstRuns('queue')
    expect(jobOf(engine)).toMatchObject({ running: 1, queued: 1, skipped: 0 })
    probe.release()
    await until(() => jobOf(engine).completed === 2)
    expect(probe.seen.map((s) => s.meta.scheduledAt)).toEqual(['2026-03-02T10:01:00.000Z', '2026-03-02T10:02:00.000Z'])
    expect(probe.gate.peak).toBe(1)
  })

  it('allow: runs overlap', async () => {
    const clock = createManualClock('2026-03-02T10:00:30Z')
    const probe = probePlugin()
    const engine = await start(appDir(app("cron: '*/20 * * * * *', overlap: allow")), clock, [probe.plugin])
    clock.set(T('2026-03-02T10:01:00Z')) // 10:00:40 and 10:01:00
    await until(() => probe.gate.inside === 2)
    expect(jobOf(engine)).toMatchObject({ running: 2, skipped: 0 })
    probe.release()
    await until(() => jobOf(engine).completed === 2)
  })
})

describe('schedule.cron failures and stop', () => {
  it('a failing run is counted and the job goes on; stopping the engine aborts a run in flight', async () => {
    const clock = createManualClock('2026-03-02T10:00:30Z')
    const probe = probePlugin()
    const engine = await start(appDir(app("cron: '* * * * *'", `
      - type: probe.record
      - if: \${{ meta.scheduledAt == '2026-03-02T10:01:00.000Z' }}
        then: [{ type: fail, config: { status: 500, code: ERR_REPORT, message: 'report failed' } }]
      - type: probe.gate`)), clock, [probe.plugin])
    clock.set(T('2026-03-02T10:01:00Z'))
    await until(() => jobOf(engine).failed === 1)
    clock.set(T('2026-03-02T10:02:00Z'))
    await until(() => probe.gate.inside === 1)
    expect(jobOf(engine)).toMatchObject({ fired: 2, failed: 1, running: 1, skipped: 0 })
    await engines.splice(engines.indexOf(engine), 1)[0]!.stop()
    expect(probe.gate.inside).toBe(0)
    expect(probe.seen).toHaveLength(2)
  })
})

describe('schedule.cron across restarts and processes', () => {
  const hourly = (missed: string) => app(`cron: '0 * * * *', missed: ${missed}`, '[{ type: probe.record }]')

  it('missed: runOnce runs once, for the latest time, after downtime; a restart with nothing missed runs nothing', async () => {
    const dir = appDir(hourly('runOnce'))
    const probe = probePlugin()
    const clock = createManualClock('2026-03-02T10:30:00Z')
    const first = await start(dir, clock, [probe.plugin])
    clock.set(T('2026-03-02T11:00:00Z'))
    await until(() => jobOf(first).completed === 1)
    await first.stop()
    // Down from 11:xx to 15:30: 12:00, 13:00, 14:00 and 15:00 passed.
    const second = await start(dir, createManualClock('2026-03-02T15:30:00Z'), [probe.plugin])
    await until(() => jobOf(second).completed === 1)
    expect(probe.seen.map((s) => [s.meta.scheduledAt, s.meta.missed])).toEqual([
      ['2026-03-02T11:00:00.000Z', undefined], ['2026-03-02T15:00:00.000Z', 4]])
    expect(jobOf(second)).toMatchObject({ lastScheduledAt: '2026-03-02T15:00:00.000Z', next: ['2026-03-02T16:00:00.000Z', '2026-03-02T17:00:00.000Z', '2026-03-02T18:00:00.000Z'] })
    await second.stop()
    const third = await start(dir, createManualClock('2026-03-02T15:45:00Z'), [probe.plugin])
    expect(jobOf(third)).toMatchObject({ fired: 0 })
    expect(probe.seen).toHaveLength(2)
  })

  it('missed: skip runs nothing for the downtime, then the next time as usual', async () => {
    const dir = appDir(hourly('skip'))
    const probe = probePlugin()
    const clock = createManualClock('2026-03-02T10:30:00Z')
    const first = await start(dir, clock, [probe.plugin])
    clock.set(T('2026-03-02T11:00:00Z'))
    await until(() => jobOf(first).completed === 1)
    await first.stop()
    const later = createManualClock('2026-03-02T15:30:00Z')
    const second = await start(dir, later, [probe.plugin])
    expect(jobOf(second)).toMatchObject({ fired: 0 })
    later.set(T('2026-03-02T16:00:00Z'))
    await until(() => jobOf(second).completed === 1)
    expect(probe.seen.map((s) => s.meta.scheduledAt)).toEqual(['2026-03-02T11:00:00.000Z', '2026-03-02T16:00:00.000Z'])
  })

  it('two engines sharing a data dir run each scheduled time once: the first to claim it (jitter decides) runs it', async () => {
    const dir = appDir(app("cron: '* * * * *', jitterMs: 1000", '[{ type: probe.record }]'))
    const probe = probePlugin()
    const clock = createManualClock('2026-03-02T10:00:30Z')
    const late = await start(dir, clock, [probe.plugin], () => 0.9) // fires 900 ms after each time
    const early = await start(dir, clock, [probe.plugin], () => 0.1) // fires 100 ms after
    for (const minute of [1, 2, 3]) {
      clock.set(T(`2026-03-02T10:0${minute}:59Z`))
      await until(() => jobOf(early).completed === minute)
    }
    expect(probe.seen.map((s) => [s.meta.scheduledAt, s.meta.firedAt])).toEqual([
      ['2026-03-02T10:01:00.000Z', '2026-03-02T10:01:00.100Z'],
      ['2026-03-02T10:02:00.000Z', '2026-03-02T10:02:00.100Z'],
      ['2026-03-02T10:03:00.000Z', '2026-03-02T10:03:00.100Z'],
    ])
    expect(jobOf(late)).toMatchObject({ fired: 0, claimedElsewhere: 3, lastScheduledAt: '2026-03-02T10:03:00.000Z' })
    expect(jobOf(early)).toMatchObject({ fired: 3, claimedElsewhere: 0 })
  })
})

describe('schedule.cron time zones and DST (croner, as Vixie cron)', () => {
  const runs = (expression: string, timezone: string, from: string, n: number) => {
    const schedule = compileSchedule(expression, timezone)
    const out: (string | undefined)[] = []
    for (let t: number | undefined = T(from); out.length < n && t !== undefined;) out.push(ISO(t = schedule.next(t)))
    return out
  }

  it('a fixed-time job in the skipped hour runs at the first valid time after it; in the repeated hour, once', () => {
    // Europe/Berlin: 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
    expect(runs('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z' /* 03:00 CEST */, '2026-03-30T00:30:00.000Z'])
    expect(runs('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z' /* 02:30 CEST, the first 02:30 */, '2026-10-26T01:30:00.000Z'])
  })

  it('an interval job skips the times in the skipped hour and runs on both occurrences of the repeated hour', () => {
    expect(runs('*/30 2 * * *', 'America/New_York', '2026-03-08T00:00:00Z', 2)).toEqual([
      '2026-03-09T06:00:00.000Z', '2026-03-09T06:30:00.000Z']) // 2026-03-08 02:xx does not exist in New York
    expect(runs('*/30 1 * * *', 'America/New_York', '2026-11-01T04:00:00Z', 4)).toEqual([
      '2026-11-01T05:00:00.000Z', '2026-11-01T05:30:00.000Z' /* 01:xx EDT */, '2026-11-01T06:00:00.000Z', '2026-11-01T06:30:00.000Z' /* 01:xx EST */])
  })

  it("status shows a job's next run times in its own time zone, and a seconds field", async () => {
    const clock = createManualClock('2026-03-28T23:00:00Z')
    const engine = await start(appDir(`apiVersion: islet/v1
modules:
  - name: cron
    type: schedule.cron
    config:
      timezone: Europe/Berlin
      jobs:
        - { name: nightly, cron: '0 30 2 * * *', pipeline: work }
        - { name: fast, cron: '*/15 * * * * *', timezone: UTC, pipeline: work }
pipelines:
  work: { steps: [{ type: log, config: { message: tick } }] }
`), clock, [])
    const detail = (engine.status() as unknown as { modules: { name: string; detail: { jobs: JobStatus[] } }[] }).modules.find((m) => m.name === 'cron')!.detail
    expect(detail.jobs.map((j) => [j.name, j.timezone, j.next])).toEqual([
      ['nightly', 'Europe/Berlin', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z']],
      ['fast', 'UTC', ['2026-03-28T23:00:15.000Z', '2026-03-28T23:00:30.000Z', '2026-03-28T23:00:45.000Z']],
    ])
  })
})

describe('schedule.cron config checks (islet validate)', () => {
  it('refuses a bad cron expression, an unknown time zone, a duplicate job name and an unknown pipeline at file:line:col, with hints', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: cron
    type: schedule.cron
    config:
      jobs:
        - { name: a, cron: '61 * * * *', pipeline: work }
        - { name: b, cron: 'every day', pipeline: work }
        - { name: c, cron: '0 0 30 2 *', pipeline: work }
        - { name: a, cron: '* * * * *', timezone: Mars/Base, pipeline: work }
  - name: other
    type: schedule.cron
    config:
      jobs:
        - { name: x, cron: '@daily', pipeline: wrok }
pipelines:
  work: { steps: [{ type: log, config: { message: tick } }] }
` })
    cleanups.push(cleanup)
    const { diagnostics } = await loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {} })
    expect(diagnostics.map((d) => [d.code, d.line, d.col, d.message])).toEqual([
      ['ERR_CONFIG_MODULE_CHECK', 7, 28, "cron '61 * * * *': Invalid value for minute: 61"],
      ['ERR_CONFIG_MODULE_CHECK', 8, 28, "'every day' is not a cron expression"],
      ['ERR_CONFIG_MODULE_CHECK', 9, 28, "cron '0 0 30 2 *' never fires (e.g. February 30th)"],
      ['ERR_CONFIG_MODULE_CHECK', 10, 19, "job name 'a' is used twice in this module"],
      ['ERR_CONFIG_MODULE_CHECK', 10, 51, "'Mars/Base' is not a time zone"],
      ['ERR_CONFIG_UNKNOWN_REFERENCE', 15, 48, expect.stringContaining("'wrok'")],
    ])
    expect(diagnostics[0]!.hint).toContain("5 fields 'minute hour day-of-month month day-of-week'")
    expect(diagnostics[4]!.hint).toContain('Europe/Berlin')
  })
  it('islet validate prints a bad cron and a bad subscription topic as file:line:col with the hint, and exits 1', () => {
    const dir = appDir(`apiVersion: islet/v1
modules:
  - name: nightly
    type: schedule.cron
    config:
      jobs:
        - { name: report, cron: '0 2 * * 8', pipeline: report }
  - name: subs
    type: events.subscriber
    config:
      subscriptions:
        - { topic: 'orders.*.created', pipeline: report }
pipelines:
  report: { steps: [{ type: log, config: { message: hi } }] }
`)
    const r = islet(['validate', join(dir, 'app.yaml')])
    expect(r.status).toBe(1)
    expect(r.stdout + r.stderr).toContain("app.yaml:7:33 error ERR_CONFIG_MODULE_CHECK cron '0 2 * * 8': Invalid value for dayOfWeek: 8 at modules.0.config.jobs.0.cron (5 fields")
    expect(r.stdout + r.stderr).toContain("app.yaml:12:20 error ERR_CONFIG_MODULE_CHECK 'orders.*.created' is not a topic pattern")
  })
})

describe('schedule.cron jitter', () => {
  it('delays the firing by up to jitterMs (scheduledAt stays the cron time)', async () => {
    const clock = createManualClock('2026-03-02T10:00:30Z')
    const probe = probePlugin()
    const engine = await start(appDir(app("cron: '* * * * *', jitterMs: 10000", '[{ type: probe.record }]')), clock, [probe.plugin], () => 0.5)
    clock.set(T('2026-03-02T10:01:04.999Z'))
    expect(jobOf(engine).fired).toBe(0)
    clock.set(T('2026-03-02T10:01:05Z'))
    expect(jobOf(engine).fired).toBe(1)
    await until(() => probe.seen.length === 1)
    expect(probe.seen[0]!.meta).toMatchObject({ scheduledAt: '2026-03-02T10:01:00.000Z', firedAt: '2026-03-02T10:01:05.000Z' })
  })
})
