// Benchmark §17b: how late a schedule fires. A real `islet run` of JITTER_APP (a schedule.cron job every second, the
// croner seconds field; its pipeline is one `log` step) next to the floor: a plain Node process arming setTimeout for
// the next whole second, re-armed when it fires early, as the schedule's own clock does (plugins/schedule/clock.ts).
// Both run at once, first on the machine as it is, then with one core spun by a busy loop (another process). Per
// firing: the scheduled second against the log line's time (the pipeline's first step: timer + claim row in
// schedules.db + run start) and against meta.firedAt (the timer alone); the floor's is its callback's time. p50, p99
// and max over BENCH_JITTER_FIRINGS firings each way (the first firing of each process is start-up, not counted).
// Times are Date.now() (ms). Alone: `node test/bench/schedule-jitter.ts`.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { writeFiles } from '../support/files.ts'
import { until } from '../support/until.ts'
import { startCli } from './cli-server.ts'
import { onExit } from './exit-cleanup.ts'
import { loadNote, meter } from './proc.ts'
import { median, quantile } from './stats.ts'

const PORT = Number(process.env.BENCH_JITTER_PORT ?? 19313)

export const JITTER_APP = `apiVersion: islet/v1
modules:
  - name: ticks
    type: schedule.cron
    config:
      jobs:
        - { name: tick, cron: '* * * * * *', pipeline: tick }
pipelines:
  tick:
    steps:
      - type: log
        config: { level: warn, message: tick, fields: { at: '\${{ meta.scheduledAt }}', firedAt: '\${{ meta.firedAt }}' } }
`

/** The floor: what a bare Node timer manages. One JSON line per firing: the whole second it aimed at, when it ran. */
const FLOOR = `
const arm = (when) => {
  const wait = when - Date.now()
  if (wait > 0) return setTimeout(() => arm(when), wait)
  process.stdout.write(JSON.stringify({ at: when, ran: Date.now() }) + '\\n')
  arm(Math.floor(Date.now() / 1000) * 1000 + 1000)
}
arm(Math.floor(Date.now() / 1000) * 1000 + 1000)
`

interface Lateness { firing: number[]; timer: number[] }

const summary = (xs: number[]) => ({ p50Ms: median(xs), p99Ms: quantile(xs, 0.99), maxMs: Math.max(...xs), n: xs.length })

function child(code: string): ChildProcess {
  const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  onExit(() => c.kill('SIGKILL'))
  return c
}

export async function benchScheduleJitter(options: { firings: number }) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': JITTER_APP })
  let islet: Lateness = { firing: [], timer: [] }
  let floor: number[] = []
  let seenIslet = 0
  let seenFloor = 0
  const server = startCli('run', join(dir, 'app.yaml'), PORT, {
    logLevel: 'warn',
    stdout(line) {
      if (!line.includes('"tick"')) return
      const r = JSON.parse(line) as { msg: string; time: string; at: string; firedAt: string }
      if (r.msg !== 'tick' || seenIslet++ === 0) return
      const at = Date.parse(r.at)
      islet.firing.push(Date.parse(r.time) - at)
      islet.timer.push(Date.parse(r.firedAt) - at)
    },
  })
  const forget = onExit(() => { try { process.kill(-server.pid, 'SIGKILL') } catch { /* gone */ } cleanup() })
  const bare = child(FLOOR)
  createInterface({ input: bare.stdout! }).on('line', (line) => {
    const r = JSON.parse(line) as { at: number; ran: number }
    if (seenFloor++ > 0) floor.push(r.ran - r.at)
  })
  let spinner: ChildProcess | undefined
  try {
    const phase = async (label: string) => {
      islet = { firing: [], timer: [] }
      floor = []
      const roots = [server.pid, bare.pid!, ...(spinner ? [spinner.pid!] : [])]
      const m = meter(roots)
      await until(() => {
        if (server.child.exitCode !== null) throw new Error(`islet run exited with ${server.child.exitCode}: ${server.stderr()}`)
        return islet.firing.length >= options.firings && floor.length >= options.firings
      }, { ms: (options.firings + 60) * 1000, everyMs: 200, explain: () => server.stderr() })
      const used = m.stop()
      return {
        label, firing: summary(islet.firing.slice(0, options.firings)), timer: summary(islet.timer.slice(0, options.firings)),
        floor: summary(floor.slice(0, options.firings)), machine: loadNote([used.otherCores]),
      }
    }
    const idle = await phase('idle')
    spinner = child('for (;;) {}')
    const spun = await phase('one core spun')
    return { name: 'schedule firing lateness: schedule.cron every second (islet run) vs a bare setTimeout', firings: options.firings, phases: [idle, spun] }
  } finally {
    spinner?.kill('SIGKILL')
    bare.kill('SIGKILL')
    await server.stop()
    forget()
    cleanup()
  }
}

export function printScheduleJitter(r: Awaited<ReturnType<typeof benchScheduleJitter>>): void {
  const f = (s: ReturnType<typeof summary>) => `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms`
  for (const p of r.phases) {
    console.log(`   ${p.label} (${r.firings} firings each; ${p.machine}):`)
    console.log(`      schedule.cron, pipeline start ${f(p.firing)}  (its timer alone: ${f(p.timer)})`)
    console.log(`      bare setTimeout floor         ${f(p.floor)}`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchScheduleJitter({ firings: Number(process.env.BENCH_JITTER_FIRINGS ?? 100) })
  printScheduleJitter(result)
  console.log(JSON.stringify({ bench: 'schedule-jitter', ...result }))
  process.exit(0)
}
