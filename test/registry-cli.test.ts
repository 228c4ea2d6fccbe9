// `islet registry …`: the component check the CLI lends the server (the runtime's compiler, problems located inside
// the package), and the command-line mistakes of serve, user add and token, refused with exit 2 before any registry
// folder is opened. serve is started for real on loopback and stopped by a signal.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkComponents } from '../runtime/cli/registry-check.ts'
import { BIN, islet, spawnIslet } from './support/cli.ts'
import { writeFiles } from './support/files.ts'

const GOOD = `import { defineComponent } from '@islet/sdk'
import { double } from './lib/double.ts'
export default defineComponent({ name: 'calc', execute: (n: number) => double(n) })
`
const BROKEN = `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'geocode',
  execute: (input: string) => { return input +* 2 },
})
`
const PKG = (components: Record<string, { file: string }>) => ({ name: '@acme/geo', version: '1.2.0', islet: { engine: '^0.1.0', components } })

describe('checkComponents (what islet registry serve gives the server)', () => {
  it('compiles each declared component from the package files: a good package has no problems', async () => {
    const files = new Map([
      ['package.json', Buffer.from('{}')],
      ['components/calc.ts', Buffer.from(GOOD)],
      ['components/lib/double.ts', Buffer.from('export const double = (n: number) => n * 2\n')],
    ])
    expect(await checkComponents(files, PKG({ calc: { file: 'components/calc.ts' } }))).toEqual([])
  })

  it('reports a component that does not compile at file:line:col inside the package, and one that is missing', async () => {
    const files = new Map([['package.json', Buffer.from('{}')], ['components/geocode.ts', Buffer.from(BROKEN)]])
    const problems = await checkComponents(files, PKG({ geocode: { file: 'components/geocode.ts' }, gone: { file: 'components/gone.ts' } }))
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatchObject({ file: 'components/geocode.ts', line: 4, code: 'ERR_COMPONENT_SYNTAX' })
    expect(problems[0]!.message).toContain("component 'geocode'")
    expect(problems[1]).toMatchObject({ file: 'package.json', code: 'ERR_CONFIG_COMPONENT_NOT_FOUND' })
    expect(problems[1]!.message).toContain("islet.components.gone.file 'components/gone.ts' is not in the package")
  })
})

describe('islet registry: command-line mistakes', () => {
  it('token create needs a user, package patterns and a duration it can read', () => {
    const noScope = islet(['registry', 'token', 'create', '--user', 'alice'])
    expect(noScope.status).toBe(2)
    expect(noScope.stderr).toContain('needs at least one --scope')
    const badScope = islet(['registry', 'token', 'create', '--user', 'alice', '--scope', 'Acme/*'])
    expect(badScope.status).toBe(2)
    expect(badScope.stderr).toContain("--scope 'Acme/*' is not a package pattern: write '@acme/*'")
    const badExpiry = islet(['registry', 'token', 'create', '--user', 'alice', '--scope', '@acme/*', '--expires', '30 days'])
    expect(badExpiry.status).toBe(2)
    expect(badExpiry.stderr).toContain("--expires takes a duration such as 12h, 30d, 8w or 1y (s, m, h, d, w, y); not '30 days'")
  })

  it('user add takes the password from stdin or the environment, never too short', () => {
    const { dir, cleanup } = writeFiles({})
    try {
      const piped = spawnSync(process.execPath, [BIN, 'registry', 'user', 'add', 'alice', '--dir', join(dir, 'registry')], { input: 'short\n', encoding: 'utf8', env: { ...process.env, ISLET_REGISTRY_PASSWORD: '' } })
      expect(piped.status).toBe(2)
      expect(piped.stderr).toContain('the password from stdin is shorter than 8 characters')
      const bad = islet(['registry', 'user', 'add', 'Alice Smith', '--dir', join(dir, 'registry')])
      expect(bad.status).toBe(2)
      expect(bad.stderr).toContain("'Alice Smith' is not a user name")
      expect(existsSync(join(dir, 'registry')), 'nothing is created for a refused command').toBe(false)
    } finally {
      cleanup()
    }
  })

  it('serve refuses a port out of range; the token commands are listed under islet registry token', () => {
    const port = islet(['registry', 'serve', '--port', '70000'])
    expect(port.status).toBe(2)
    expect(port.stderr).toContain("--port must be a port number 0-65535 (0: any free port), not '70000'")
    const group = islet(['registry', 'token', 'craete'])
    expect(group.status).toBe(2)
    expect(group.stderr).toContain("unknown command 'islet registry token craete' (did you mean 'registry token create'?)")
    for (const sub of ['create', 'revoke <id>', 'list']) expect(group.stderr).toContain(`islet registry token ${sub}`)
  })
})

describe('islet registry serve', () => {
  it('serves the npm protocol on loopback (its signing keys) and stops on SIGTERM', async () => {
    const { dir, cleanup } = writeFiles({})
    const served = spawnIslet(['registry', 'serve', '--dir', join(dir, 'registry'), '--port', '0', '--format', 'json'])
    try {
      const line = await served.waitFor((l) => typeof l.url === 'string', 30_000)
      expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      const keys = await fetch(new URL('-/npm/v1/keys', String(line.url)))
      expect(keys.status).toBe(200)
      expect((await keys.json() as { keys: unknown[] }).keys).toHaveLength(1)
      served.child.kill('SIGTERM')
      expect(await served.exited).toBe(0)
    } finally {
      served.child.kill('SIGKILL')
      cleanup()
    }
  })
})
