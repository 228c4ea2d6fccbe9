// `islet run` ends once it has stopped, even when something it loaded left a handle open: a plugin that starts a
// timer at import, outside any module's lifecycle, would otherwise keep the stopped process alive for ever.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnIslet } from './support/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'islet-run-exit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('islet run stopping', () => {
  it('exits after a stop even when a plugin left a timer running, naming what was left open', async () => {
    writeFileSync(join(dir, 'leaky.mjs'), [
      "setInterval(() => {}, 60_000) // never cleared: the careless part",
      "export default { name: 'leaky', version: '1.0.0', moduleTypes: [] }",
    ].join('\n'))
    writeFileSync(join(dir, 'app.yaml'), [
      'apiVersion: islet/v1',
      'plugins: [./leaky.mjs]',
      'modules:',
      '  - { name: web, type: http.server, config: { port: 0 } }',
    ].join('\n'))
    const run = spawnIslet(['run', 'app.yaml', '--data-dir', join(dir, 'data')], { cwd: dir })
    try {
      await run.waitFor((l) => typeof l.url === 'string', 30_000)
      run.child.kill('SIGTERM')
      const left = await run.waitFor((l) => l.msg === 'stopped, but handles were left open: exiting anyway', 30_000)
      expect(left.open).toContain('Timeout')
      expect(await run.exited).toBe(0)
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL') // only when the point failed: never leave it behind
    }
  }, 60_000)
})
