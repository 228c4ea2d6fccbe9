// schedule.cron under `islet run --processes 2`: two real engine processes on one data dir, on the system clock. Both
// arm the every-second job; the claim row in schedules.db lets exactly one of them run each second.
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { spawnIslet, type RunningIslet, killIslets } from './support/cli.ts'
import { writeFiles } from './support/files.ts'
import { until } from './support/until.ts'

const running: RunningIslet[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  await killIslets(running)
  for (const c of cleanups.splice(0)) c()
})

it('two engine processes sharing a data dir run each scheduled second once', async () => {
  const { dir, cleanup } = writeFiles({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: cron
    type: schedule.cron
    config:
      jobs:
        - { name: every-second, cron: '* * * * * *', pipeline: tick }
pipelines:
  tick:
    steps:
      - type: log
        config: { message: 'tick ran', fields: { scheduledAt: '\${{ meta.scheduledAt }}', process: '\${ISLET_PROCESS_INDEX}' } }
` })
  cleanups.push(cleanup)
  const run = spawnIslet(['run', 'app.yaml', '--processes', '2', '--data-dir', join(dir, 'data')], { cwd: dir })
  running.push(run)
  await run.waitFor((l) => l.msg === '2 engine processes serving', 90_000)
  const ticks = () => run.logs.filter((l) => l.msg === 'tick ran')
  const servedAt = run.logs.length
  // Both engines serve from here on: each second after it was armed in both processes.
  await until(() => run.logs.slice(servedAt).filter((l) => l.msg === 'tick ran').length >= 6, { ms: 30_000 })
  const times = ticks().map((l) => String(l.scheduledAt))
  expect(times.length).toBe(new Set(times).size)
  run.child.kill('SIGTERM')
  await run.exited
}, 120_000)
