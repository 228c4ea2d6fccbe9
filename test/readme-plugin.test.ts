// The README's plugin example runs as written: its code block is examples/ratelimit/plugins/ratelimit.ts (so the two
// cannot drift), and examples/ratelimit/app.yaml loads it through `plugins:` and rate-limits real HTTP requests.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnIslet } from './support/cli.ts'
import { json } from './support/app.ts'

const ROOT = join(import.meta.dirname, '..')
const PLUGIN = join(ROOT, 'examples', 'ratelimit', 'plugins', 'ratelimit.ts')
const APP = join(ROOT, 'examples', 'ratelimit', 'app.yaml')
const dataDir = mkdtempSync(join(tmpdir(), 'islet-ratelimit-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

/** The first ```ts block of the README's "Writing one" section (under "## Plugins"). */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Plugins'))
  const block = /### Writing one[\s\S]*?```ts\n([\s\S]*?)```/.exec(section)
  if (!block) throw new Error('README.md has no ```ts block under ## Plugins / ### Writing one')
  return block[1]!
}

describe('the README plugin example', () => {
  it('is the code of examples/ratelimit/plugins/ratelimit.ts, character for character', () => {
    const example = readmeExample()
    expect(example).toContain("type: 'acme.ratelimit'")
    expect(example).toBe(readFileSync(PLUGIN, 'utf8'))
  })

  // Needs the Koa-free middleware adapter (sdk HttpContext: request, locals, setHeader, respond) in http.server.
  it('runs: examples/ratelimit loads it through plugins: and answers 429 past the limit', async () => {
    const run = spawnIslet(['run', APP], { env: { PORT: '0', PER_MINUTE: '2', ISLET_DATA_DIR: dataDir } })
    try {
      const url = String((await run.waitFor((l) => typeof l.url === 'string', 45_000)).url)
      const first = await fetch(`${url}/hello`)
      expect(first.status).toBe(200)
      expect(await json(first)).toEqual({ hello: 'world' })
      expect(first.headers.get('x-ratelimit-remaining')).toBe('1')
      const second = await fetch(`${url}/hello`)
      expect(second.headers.get('x-ratelimit-remaining')).toBe('0')
      await second.arrayBuffer()
      const third = await fetch(`${url}/hello`)
      expect(third.status).toBe(429)
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
      expect((await json(third)).error.code).toBe('ERR_RATE_LIMITED')
    } finally {
      run.child.kill('SIGTERM')
      await run.exited
    }
  })
})
