// What a server costs the machine, read from /proc: CPU time and RSS/PSS summed over its whole process tree (the
// engine, its sandbox workers, esbuild's service), and how much of the machine other work took meanwhile. Wall-clock
// figures on a shared 2-core machine mean little unless they say whether someone else was busy during them.
import { readdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { round, sleep } from './stats.ts'

/** /proc/<pid>/stat fields after the command name: ppid, utime and stime (in USER_HZ ticks). */
function stat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }
  } catch {
    return undefined // gone meanwhile
  }
}

/** `root` and every descendant alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const s = stat(Number(entry))
    if (!s) continue
    const siblings = children.get(s.ppid) ?? []
    siblings.push(Number(entry))
    children.set(s.ppid, siblings)
  }
  if (!stat(root)) return []
  const out: number[] = []
  const walk = (pid: number) => { out.push(pid); for (const c of children.get(pid) ?? []) walk(c) }
  walk(root)
  return out
}

/** `pid`'s parent, or undefined once it is gone. */
export const parentOf = (pid: number): number | undefined => stat(pid)?.ppid

const USER_HZ = 100

/** CPU seconds (user + system) the tree has used so far; children that already exited are not counted. */
export function treeCpuSeconds(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + (stat(pid)?.ticks ?? 0), 0) / USER_HZ
}

const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
const read = (file: string) => { try { return readFileSync(file, 'latin1') } catch { return '' } }

export interface TreeMemory {
  rssMb: number
  /** Proportional set size: shared pages (two Node processes share the node binary) split between the sharers. */
  pssMb: number
  processes: number
}

export function treeMemory(root: number): TreeMemory {
  let rss = 0
  let pss = 0
  const pids = processTree(root)
  for (const pid of pids) {
    rss += kb(read(`/proc/${pid}/status`), 'VmRSS')
    pss += kb(read(`/proc/${pid}/smaps_rollup`), 'Pss')
  }
  return { rssMb: round(rss / 1024, 1), pssMb: round(pss / 1024, 1), processes: pids.length }
}

/** Machine-wide busy and total ticks from /proc/stat (interrupt time kept apart: loopback traffic is ours, mostly). */
function machine(): { busy: number; irq: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  return { busy: user + nice + system + irq + softirq, irq: irq + softirq, total: user + nice + system + idle + iowait + irq + softirq + steal }
}

const ownCpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

export interface Metered {
  wallS: number
  /** CPU seconds the server's tree used. */
  serverCpuS: number
  /** Cores busy in processes other than the server's tree and this one (which holds the load generator or poller). */
  otherCores: number
}

/**
 * Starts metering a window: the server tree's CPU, this process's, and the machine's. `stop()` says what each used;
 * what is left of the machine's busy time is other work: someone else's load, which the figure must then own up to.
 * Several roots: a server made of separate processes (Redis and its worker) counts as one.
 */
export function meter(root: number | readonly number[]): { stop(): Metered } {
  const roots = typeof root === 'number' ? [root] : root
  const serverCpu = () => roots.reduce((sum, r) => sum + treeCpuSeconds(r), 0)
  const t0 = performance.now(), m0 = machine(), s0 = serverCpu(), o0 = ownCpuSeconds()
  return {
    stop() {
      const wallS = (performance.now() - t0) / 1000, m1 = machine(), serverCpuS = serverCpu() - s0, own = ownCpuSeconds() - o0
      const otherS = (m1.busy - m1.irq - m0.busy + m0.irq) / USER_HZ - serverCpuS - own
      return { wallS, serverCpuS, otherCores: round(Math.max(0, otherS) / wallS, 2) }
    },
  }
}

/** Above this many cores of other work a run counts as loaded (BENCH_QUIET_CORES). */
export const QUIET_CORES = Number(process.env.BENCH_QUIET_CORES ?? 0.5)

/** Cores busy on the whole machine over `ms` (call it while our own servers idle: then it is other work). */
export async function busyCores(ms = 500): Promise<number> {
  const a = machine()
  await sleep(ms)
  const b = machine()
  return round((cpus().length * (b.busy - a.busy)) / Math.max(1, b.total - a.total), 2)
}

/** Waits up to BENCH_QUIET_MAX_S (default 3) for other work to drop below QUIET_CORES; says what it found. */
export async function waitQuiet(): Promise<number> {
  const until = performance.now() + Number(process.env.BENCH_QUIET_MAX_S ?? 3) * 1000
  for (;;) {
    const cores = await busyCores()
    if (cores <= QUIET_CORES || performance.now() > until) return cores
  }
}

/** What to print next to a figure: whether other work shared the machine while it was measured. */
export function loadNote(otherCores: readonly number[]): string {
  const worst = Math.max(...otherCores)
  return worst <= QUIET_CORES ? `quiet (others ≤ ${worst} cores)` : `LOADED: others up to ${worst} cores (${otherCores.filter((c) => c > QUIET_CORES).length}/${otherCores.length} runs above ${QUIET_CORES})`
}
