// CPU time a process and its descendants have used (Linux /proc), for server CPU per request: on a shared machine
// req/s moves with the neighbours' load, the CPU a request costs the server much less.
import { readdirSync, readFileSync } from 'node:fs'

/** User + system seconds of `pid` and every process below it; undefined where /proc is not available. */
export function treeCpuSeconds(pid: number): number | undefined {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return undefined
  }
  const ticks = new Map<number, { parent: number; cpu: number }>()
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // Fields after the command (which may hold spaces): state, ppid, …, utime (14th), stime (15th).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks.set(Number(entry), { parent: Number(fields[1]), cpu: Number(fields[11]) + Number(fields[12]) })
    } catch { /* the process ended meanwhile */ }
  }
  let total = 0
  const visit = (p: number): void => {
    total += ticks.get(p)?.cpu ?? 0
    for (const [child, t] of ticks) if (t.parent === p) visit(child)
  }
  visit(pid)
  return total / 100 // USER_HZ: 100 on Linux
}
