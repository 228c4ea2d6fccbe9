// Hostile corpus, paths: a tenant who writes the app's YAML tries to make the engine read, run or write files outside
// its app folder (and data directory), or to get their content echoed back in a diagnostic. Each attempt must be
// refused at its own file:line:col before anything outside is touched, and no message may quote what it points at.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../runtime/config/load.ts'
import { createBuiltinRegistry } from '../../runtime/builtins.ts'
import { writeFiles } from '../support/files.ts'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((cleanup) => cleanup()))

/** Lines of /etc/passwd no diagnostic may quote (the machine's own, so the check is about real content). */
const PASSWD = readFileSync('/etc/passwd', 'utf8').split('\n').filter((l) => l.length > 8).slice(0, 5)

interface Attempt {
  /** What the tenant writes: one YAML file's lines after `apiVersion`. */
  yaml: string
  /** Makes the links and special files the attempt needs, in the app folder `app`. */
  setup?: (app: string) => void
  code: string
  line: number
}

const sqlite = (config: string) => `modules:\n  - name: db\n    type: storage.sqlite\n    config: ${config}\n`

const ATTEMPTS: Record<string, Attempt> = {
  'import an absolute system file': { yaml: 'imports: [/etc/passwd]\n', code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2 },
  'import the process environment': { yaml: 'imports: [/proc/self/environ]\n', code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2 },
  'import an endless device': { yaml: 'imports: [/dev/zero]\n', code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2 },
  'climb out with ..': { yaml: 'imports: [../../../../../../../../etc/passwd]\n', code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2 },
  'climb out through ${HOME}': { yaml: 'imports: ["${HOME}/.ssh/id_rsa"]\n', code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2 },
  'a symlink to a system file': {
    yaml: 'imports: [./users.yaml]\n', setup: (app) => symlinkSync('/etc/passwd', join(app, 'users.yaml')),
    code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2,
  },
  'a symlinked folder': {
    yaml: 'imports: [./conf/passwd]\n', setup: (app) => symlinkSync('/etc', join(app, 'conf')),
    code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2,
  },
  'a FIFO that would block the loader': {
    yaml: 'imports: [./pipe.yaml]\n', setup: (app) => execFileSync('mkfifo', [join(app, 'pipe.yaml')]),
    code: 'ERR_CONFIG_FILE_NOT_FOUND', line: 2,
  },
  'a symlink loop': {
    yaml: 'imports: [./a.yaml]\n',
    setup: (app) => { symlinkSync(join(app, 'b.yaml'), join(app, 'a.yaml')); symlinkSync(join(app, 'a.yaml'), join(app, 'b.yaml')) },
    code: 'ERR_CONFIG_FILE_NOT_FOUND', line: 2,
  },
  'a component that is a system file': { yaml: 'components: [{ file: /etc/passwd, name: p }]\n', code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2 },
  'a component folder that is a system folder': { yaml: 'components: [{ directory: /etc }]\n', code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2 },
  'a component symlinked out of its folder': {
    yaml: 'components: [{ directory: ./components }]\n',
    setup: (app) => { mkdirSync(join(app, 'components')); symlinkSync('/etc/passwd', join(app, 'components', 'p.ts')) },
    code: 'ERR_CONFIG_PATH_OUTSIDE', line: 2,
  },
  'a database that is a system file': { yaml: sqlite('{ file: /etc/passwd }'), code: 'ERR_CONFIG_PATH_OUTSIDE', line: 5 },
  'a database beside the data directory': { yaml: sqlite('{ file: ../other-tenant.db }'), code: 'ERR_CONFIG_PATH_OUTSIDE', line: 5 },
  'migrations from a system folder': { yaml: sqlite('{ file: a.db, migrations: /etc }'), code: 'ERR_CONFIG_PATH_OUTSIDE', line: 5 },
  'a migration symlinked to a system file': {
    yaml: sqlite('{ file: a.db, migrations: ./migrations }'),
    setup: (app) => { mkdirSync(join(app, 'migrations')); symlinkSync('/etc/passwd', join(app, 'migrations', '001_x.sql')) },
    code: 'ERR_CONFIG_PATH_OUTSIDE', line: 5,
  },
}

describe('hostile config paths', () => {
  for (const [name, attempt] of Object.entries(ATTEMPTS)) {
    it(`refuses ${name}, quoting nothing it points at`, async () => {
      const { dir, cleanup } = writeFiles({ 'app/app.yaml': `apiVersion: islet/v1\n${attempt.yaml}` })
      cleanups.push(cleanup)
      const app = join(dir, 'app')
      attempt.setup?.(app)
      const { config, diagnostics } = await loadConfig(join(app, 'app.yaml'),
        { registry: createBuiltinRegistry(), env: { HOME: '/root' }, dataDir: join(dir, 'data') })
      expect(config).toBeUndefined()
      expect(diagnostics.map((d) => [d.code, d.file, d.line]), JSON.stringify(diagnostics))
        .toEqual([[attempt.code, join(app, 'app.yaml'), attempt.line]])
      const said = diagnostics.map((d) => `${d.message} ${d.hint ?? ''}`).join('\n')
      for (const line of PASSWD) expect(said).not.toContain(line)
      expect(said).not.toMatch(/root:x:/)
    })
  }
})
