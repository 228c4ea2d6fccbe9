// `islet run --processes <n>`: real engine processes forked by a real primary, real HTTP on loopback, real SQLite
// files written from several processes at once. Which process answered is read from the response (the test app
// interpolates ISLET_PROCESS_INDEX); which pid holds an index is read from /proc.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { islet, spawnIslet, type RunningIslet, killIslets } from './support/cli.ts'
import { writeFiles } from './support/files.ts'
import { until } from './support/until.ts'

const running: RunningIslet[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  await killIslets(running)
  for (const c of cleanups.splice(0)) c()
})

const WHO_APP = `
apiVersion: islet/v1
modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: GET, path: /who, pipeline: who }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  who:
    steps:
      - type: respond
        config: { body: { index: '\${ISLET_PROCESS_INDEX}' } }
`

/** Starts `islet run --processes <n>` on `files` and waits until the primary says every process serves. */
async function startProcesses(files: Record<string, string>, count: number, extra: string[] = []): Promise<{ run: RunningIslet; port: number; dir: string }> {
  const { dir, cleanup } = writeFiles(files)
  cleanups.push(cleanup)
  const run = spawnIslet(['run', 'app.yaml', '--processes', String(count), '--data-dir', join(dir, 'data'), ...extra], { cwd: dir })
  running.push(run)
  // Generous: n engines start side by side on a shared machine, each compiling and loading its app.
  await run.waitFor((l) => l.msg === `${count} engine processes serving`, 90_000)
  const listening = await run.waitFor((l) => typeof l.url === 'string' && String(l.msg).startsWith('listening on'))
  return { run, port: Number(new URL(String(listening.url)).port), dir }
}

interface Answer { status: number; body: string }

/** One request; `agent: false` opens a fresh connection (the primary hands each new one to the next process). */
function get(port: number, path: string, options: { agent?: Agent | false; method?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: options.agent ?? false,
      headers: options.body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

const indexOf = (a: Answer) => (JSON.parse(a.body) as { index: string }).index

/** The direct children of `pid` (the engine processes of a primary), each with the index the primary gave it. */
function engineProcesses(pid: number): { pid: number; index: string }[] {
  const found: { pid: number; index: string }[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid !== pid) continue
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
      const index = env.find((e) => e.startsWith('ISLET_PROCESS_INDEX='))?.slice('ISLET_PROCESS_INDEX='.length)
      if (index !== undefined) found.push({ pid: Number(entry), index })
    } catch { /* gone meanwhile */ }
  }
  return found
}

/** Of `pids`, those holding a listening TCP socket on `port` (/proc/net/tcp* inodes against each one's fds). */
function listenersOn(port: number, pids: number[]): number[] {
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!)
    }
  }
  return pids.filter((pid) => readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try { return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '') } catch { return false }
  }))
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true } catch { return false } }

describe('islet run --processes', () => {
  it('serves from every process; one that dies is replaced while the others serve on', async () => {
    const { run, port } = await startProcesses({ 'app.yaml': WHO_APP }, 2)
    const seen = new Set<string>()
    // Fresh connections go round-robin; the cap is far above what two processes need, for a loaded machine.
    await until(async () => { seen.add(indexOf(await get(port, '/who'))); return seen.size === 2 }, { ms: 60_000, everyMs: 1 })
    expect([...seen].sort()).toEqual(['0', '1'])
    // --balance cluster (the default): the primary holds the one listening socket, the engine processes none.
    const engines = engineProcesses(run.child.pid!).map((p) => p.pid)
    expect(listenersOn(port, [run.child.pid!, ...engines])).toEqual([run.child.pid!])

    // A kept-alive connection that process 0 serves: nothing of process 1's death may reach it.
    const pinned = new Agent({ keepAlive: true, maxSockets: 1 })
    await until(async () => {
      if (indexOf(await get(port, '/who', { agent: pinned })) === '0') return true
      pinned.destroy() // that connection went to process 1: the next request opens another
      return false
    }, { ms: 60_000, everyMs: 1 })
    const victim = engineProcesses(run.child.pid!).find((p) => p.index === '1')!
    process.kill(victim.pid, 'SIGKILL')
    const answers: Answer[] = []
    await until(async () => {
      answers.push(await get(port, '/who', { agent: pinned }))
      return engineProcesses(run.child.pid!).some((p) => p.index === '1' && p.pid !== victim.pid)
    }, { ms: 60_000, everyMs: 5 })
    expect(answers.every((a) => a.status === 200 && indexOf(a) === '0')).toBe(true)
    await run.waitFor((l) => l.msg === 'engine process 1 replaced and serving', 90_000)
    // And the replacement gets its share of new connections.
    await until(async () => indexOf(await get(port, '/who')) === '1', { ms: 60_000, everyMs: 1 })
    pinned.destroy()
    expect(run.logs.some((l) => l.signal === 'SIGKILL' && l.index === 1 && l.pid === victim.pid)).toBe(true)
  }, 240_000)

  it('--balance reuseport: each engine process listens on the port itself, and both serve', async () => {
    // A fixed port from this suite's range: port 0 is listened through the primary even under reuseport (one port).
    const port = 19360
    const { run } = await startProcesses({ 'app.yaml': WHO_APP.replace('port: 0', `port: ${port}`) }, 2, ['--balance', 'reuseport'])
    const engines = engineProcesses(run.child.pid!).map((p) => p.pid)
    expect(listenersOn(port, [run.child.pid!, ...engines]).sort()).toEqual([...engines].sort())
    const seen = new Set<string>()
    await until(async () => { seen.add(indexOf(await get(port, '/who'))); return seen.size === 2 }, { ms: 60_000, everyMs: 1 })
    expect([...seen].sort()).toEqual(['0', '1'])
  }, 180_000)

  it('SIGTERM to the primary drains and stops every engine process, then exits 0', async () => {
    const { run, port } = await startProcesses({ 'app.yaml': WHO_APP }, 2)
    expect((await get(port, '/who')).status).toBe(200)
    const children = engineProcesses(run.child.pid!)
    expect(children.map((c) => c.index).sort()).toEqual(['0', '1'])
    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
    // The primary exits only after every engine process did.
    expect(children.filter((c) => alive(c.pid))).toEqual([])
    expect(run.logs.filter((l) => l.msg === 'engine stopped').map((l) => l.proc).sort()).toEqual([0, 1])
    await expect(get(port, '/who')).rejects.toThrow(/ECONNREFUSED/)
  }, 180_000)

  it('concurrent writers in two processes: every SQL insert and kv increment lands, none fails as busy', async () => {
    const { port } = await startProcesses({
      'app.yaml': `
apiVersion: islet/v1
components:
  - file: ./components/tally.ts
    grants: { kv: true }
modules:
  - name: db
    type: storage.sqlite
    config: { file: shared.db, migrations: ./migrations }
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /hit, pipeline: hit }
        - { method: GET, path: /totals, pipeline: totals }
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  hit:
    steps:
      - type: sql.exec
        config: { db: db, sql: 'INSERT INTO hits (process) VALUES (:p)', params: { p: '\${ISLET_PROCESS_INDEX}' } }
      - name: tally
        type: component
        config: { component: tally, input: {} }
      - type: respond
        config: { body: { index: '\${ISLET_PROCESS_INDEX}', count: '\${{ steps.tally.count }}' } }
  totals:
    steps:
      - name: rows
        type: sql.query
        config: { db: db, sql: 'SELECT process, COUNT(*) AS n FROM hits GROUP BY process ORDER BY process' }
      - name: tally
        type: component
        config: { component: tally, input: { read: true } }
      - type: respond
        config: { body: { rows: '\${{ steps.rows }}', count: '\${{ steps.tally.count }}' } }
`,
      'migrations/001_hits.sql': 'CREATE TABLE hits (id INTEGER PRIMARY KEY, process TEXT NOT NULL);',
      'components/tally.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent<unknown, { read?: boolean }, { count: number }>({
  name: 'tally',
  input: { type: 'object', properties: { read: { type: 'boolean' } } },
  examples: [{ input: {}, output: { count: 1 } }],
  async execute(input, ctx) {
    if (input.read) return { count: ((await ctx.kv.get('hits')) as number | undefined) ?? 0 }
    return { count: await ctx.kv.increment('hits') }
  },
})
`,
    }, 2)
    // 40 clients, each on its own connections: both processes write the same two files at once, all the time.
    const perClient = 10
    const clients = 40
    const answers = (await Promise.all(Array.from({ length: clients }, async () => {
      const mine: Answer[] = []
      for (let i = 0; i < perClient; i++) mine.push(await get(port, '/hit', { method: 'POST', body: '{}' }))
      return mine
    }))).flat()
    const failed = answers.filter((a) => a.status !== 200)
    expect(failed).toEqual([])
    const total = clients * perClient
    // kv increments are atomic across processes: every count from 1 to total handed out exactly once.
    const counts = answers.map((a) => (JSON.parse(a.body) as { count: number }).count).sort((a, b) => a - b)
    expect(counts).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    const totals = JSON.parse((await get(port, '/totals')).body) as { rows: { process: string; n: number }[]; count: number }
    expect(totals.count).toBe(total)
    expect(totals.rows.reduce((sum, r) => sum + r.n, 0)).toBe(total)
    // Both processes did write (round-robin over fresh connections).
    expect(totals.rows.map((r) => r.process)).toEqual(['0', '1'])
  }, 240_000)

  it('an app that cannot start stops every process: exit 1, the problem printed once', async () => {
    const { dir, cleanup } = writeFiles({ 'app.yaml': 'apiVersion: islet/v1\nmodules:\n  - name: web\n    type: http.servr\n' })
    cleanups.push(cleanup)
    const r = islet(['run', 'app.yaml', '--processes', '2', '--data-dir', join(dir, 'data')], { cwd: dir })
    expect(r.status).toBe(1)
    expect(r.stderr.match(/ERR_CONFIG_UNKNOWN_MODULE_TYPE/g)).toHaveLength(1)
    expect(r.stdout).toContain('before it served; stopping the others')
  }, 120_000)

  it('refuses a bad count, and --watch with more than one process, as usage errors (exit 2)', () => {
    for (const bad of ['0', 'two', '1.5', '100000']) {
      const r = islet(['run', 'app.yaml', '--processes', bad])
      expect(r.status).toBe(2)
      expect(r.stderr).toContain(`ERR_CLI_USAGE: --processes must be a whole number from 1 to 256, or 'auto'`)
      expect(r.stderr).toContain(`not '${bad}'`)
    }
    const watch = islet(['run', 'app.yaml', '--processes', '2', '--watch'])
    expect(watch.status).toBe(2)
    expect(watch.stderr).toContain("use 'islet dev' (one process) while editing")
  })
})
