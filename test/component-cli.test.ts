// `islet component test|new` as a user runs them: real child processes, real sandbox, exit codes, one line per example.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BIN, islet } from './support/cli.ts'
import { writeFiles } from './support/app.ts'

const EXAMPLES = join(import.meta.dirname, '..', 'examples', 'orders', 'components')

/** Sandbox workers still running whose parent is gone: there must be none after a command exits. */
function strayWorkers(): string[] {
  try {
    return execFileSync('pgrep', ['-af', 'runtime/sandbox/worker\\.ts|\\.cache/islet/worker/worker-'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
      .filter((line) => { const pid = Number(line.split(' ')[0]); return Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim()) === 1 })
  } catch { return [] }
}

describe('islet component test', () => {
  it('runs every example in the sandbox and prints one line each; exit 0 when all pass', () => {
    const r = islet(['component', 'test', join(EXAMPLES, 'price-quote.ts')])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^✓ small order \(.*ms\)$/m)
    expect(r.stdout).toMatch(/^✓ unknown sku \(.*ms\)$/m)
    expect(r.stdout).toContain('4 passed, 0 failed')
  })

  it('grants nothing beyond log unless a flag does', () => {
    const denied = islet(['component', 'test', join(EXAMPLES, 'counter', 'index.ts')])
    expect(denied.status).toBe(1)
    expect(denied.stdout).toContain('✗ counts: ERR_CAPABILITY_DENIED')
    // The refusal says which flags grant (the app may grant it already: editing its YAML would change nothing here).
    expect(denied.stdout).toContain("is not granted kv; component test grants only what its flags say: pass one of --kv, ")
    expect(denied.stdout).not.toContain("grant it in the app's components section")
    const granted = islet(['component', 'test', join(EXAMPLES, 'counter', 'index.ts'), '--kv', '--emit', 'orders.*'])
    expect(granted.stdout).toContain('3 passed, 0 failed')
    expect(granted.status).toBe(0)
  })

  it('--fetch with a loopback origin lets examples reach a local test server (typing it is the grant)', async () => {
    const server = createServer((_req, res) => res.end('pong'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const { dir, cleanup } = writeFiles({ 'ping.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'ping',
  examples: [{ name: 'local', input: {}, output: 'pong', fetch: true }],
  execute: async (_input: unknown, ctx) => (await ctx.fetch('${origin}/ping')).text(),
})
` })
    try {
      // Asynchronously: the server answering the component lives in this process.
      const child = spawn(process.execPath, [BIN, 'component', 'test', join(dir, 'ping.ts'), '--fetch', origin], { env: { ...process.env, LOG_LEVEL: 'warn' } })
      let stdout = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
      const status = await new Promise((resolve) => child.once('close', resolve))
      expect(stdout).toContain('1 passed, 0 failed')
      expect(status).toBe(0)
    } finally {
      cleanup()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('prints what each example emitted: captured, never published', () => {
    const r = islet(['component', 'test', join(EXAMPLES, 'counter', 'index.ts'), '--kv', '--emit', 'orders.*'], { env: { LOG_LEVEL: 'warn' } })
    expect(r.stdout).toMatch(/^✓ counts \(.*ms\)\n {4}emitted orders\.milestone \{"sku":"EXAMPLE","count":1\}$/m)
    expect(r.stdout).toMatch(/^✓ the tenth order is a milestone \(.*ms\)\n {4}emitted orders\.milestone \{"sku":"A-100","count":10\}$/m)
    expect(r.stdout).toMatch(/^✓ the eleventh is not \(.*ms\)\n3 passed, 0 failed$/m)
    expect(r.status).toBe(0)
  })

  it('a component logging in its last example: its line is printed, no stack, and the exit code is right, every run', () => {
    const logs = (last: number) => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'logs',
  examples: [{ name: 'first', input: 1, output: 1 }, { name: 'last', input: 2, output: ${last} }],
  execute(n: number, ctx) { if (n === 2) ctx.log.info('the last example logs', { n }); return n },
})
`
    const { dir, cleanup } = writeFiles({ 'passes.ts': logs(2), 'fails.ts': logs(3) })
    // The race (the last log line flushed after the command stopped the sandbox) hit most runs: five in one test.
    for (let run = 1; run <= 5; run++) {
      const [file, status] = run % 2 === 1 ? ['passes.ts', 0] : ['fails.ts', 1]
      const r = islet(['component', 'test', join(dir, file)])
      expect(r.stderr, `${file} run ${run}`).toBe('')
      expect(r.stdout).toContain('"msg":"the last example logs"')
      expect(r.stdout).toContain(status === 0 ? '2 passed, 0 failed' : '1 passed, 1 failed')
      expect(r.status, `${file} run ${run}: ${r.stdout}`).toBe(status)
    }
    cleanup()
  }, 120_000)

  it('reports a wrong output as a difference and a wrong outcome by code; exit 1', () => {
    const { dir, cleanup } = writeFiles({
      'double.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'double',
  examples: [
    { name: 'right', input: 2, output: 4 },
    { name: 'wrong', input: 3, output: 7 },
    { name: 'expects an error', input: 1, error: 'ERR_COMPONENT_THREW' },
  ],
  execute: (n: number) => n * 2,
})
`,
    })
    const r = islet(['component', 'test', join(dir, 'double.ts')])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/^✓ right/m)
    expect(r.stdout).toMatch(/^✗ wrong: output differs:\n\s+expected 7\n\s+actual\s+6$/m)
    expect(r.stdout).toMatch(/^✗ expects an error: expected ERR_COMPONENT_THREW, got output 2$/m)
    expect(r.stdout).toContain('1 passed, 2 failed')
    cleanup()
  })

  it('a compile error exits 1 with file:line:col', () => {
    const { dir, cleanup } = writeFiles({ 'bad.ts': "import fs from 'node:fs'\nexport default { name: 'bad', execute: () => fs }\n" })
    const r = islet(['component', 'test', join(dir, 'bad.ts')])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/bad\.ts:1:\d+ error ERR_COMPONENT_IMPORT/)
    cleanup()
  })

  it('never hangs on hostile code and leaves no process behind', () => {
    const { dir, cleanup } = writeFiles({
      'evil.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'evil', limits: { timeoutMs: 200 },
  examples: [{ name: 'spins', input: 1 }, { name: 'hangs', input: 2 }],
  execute: (n: number) => { if (n === 1) for (;;) {} return new Promise(() => {}) },
})
`,
    })
    // A hang would outlive islet()'s own 30 s limit and fail here; the 200 ms deadline is below the default CPU
    // budget, so the wall clock ends the spin too.
    const r = islet(['component', 'test', join(dir, 'evil.ts')])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/^✗ spins: ERR_SANDBOX_TIMEOUT/m)
    expect(r.stdout).toMatch(/^✗ hangs: ERR_SANDBOX_TIMEOUT/m)
    expect(strayWorkers()).toEqual([])
    cleanup()
  })
})

describe('islet component new', () => {
  it('scaffolds a component whose own examples pass, and refuses to overwrite or take a bad name', () => {
    const { dir, cleanup } = writeFiles({})
    const created = islet(['component', 'new', 'greeter'], { cwd: dir })
    expect(created.status).toBe(0)
    expect(created.stdout).toContain('created components/greeter.ts')
    // The command it suggests runs from where it was asked: an app folder outside the project has no node_modules.
    const next = /\n {2}(\S+) component test components\/greeter\.ts\n/.exec(created.stdout)?.[1]
    expect(next && existsSync(resolve(dir, next)), created.stdout).toBe(true)
    expect(next, 'from outside the project, the absolute path rather than ../../…').toMatch(/^\//)
    const tested = islet(['component', 'test', 'components/greeter.ts'], { cwd: dir })
    expect(tested.stdout).toContain('2 passed, 0 failed')
    expect(tested.status).toBe(0)
    expect(islet(['component', 'new', 'greeter'], { cwd: dir }).stderr).toContain('already exists')
    expect(islet(['component', 'new', 'Bad_Name'], { cwd: dir }).stderr).toContain('ERR_CLI_USAGE')
    cleanup()
  })
})
