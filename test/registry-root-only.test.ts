// Registry plugins (the plugins: map) and registries: are the root file's, where islet.lock sits and what `islet
// plugin add|upgrade` read: an imported file declaring them is refused at its key, so the commands and `islet run`
// can never resolve from different registries.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { islet } from './support/cli.ts'
import { errors, load } from './support/registry-plugin-apps.ts'

const dir = mkdtempSync(join(tmpdir(), 'islet-root-only-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('registry plugins and registries: live in the root file', () => {
  it('an imported file with a plugins: map or registries: is refused at the key, naming the root file to move it to', async () => {
    writeFileSync(join(dir, 'app.yaml'), 'apiVersion: islet/v1\nimports: [./more.yaml]\n')
    writeFileSync(join(dir, 'more.yaml'), "apiVersion: islet/v1\nregistries:\n  '@acme': http://127.0.0.1:4873/\nplugins:\n  '@acme/geo': ^1.0.0\n")
    const found = errors((await load(dir)).diagnostics)
    expect(found.map((d) => [d.code, d.file.endsWith('more.yaml'), d.line, d.message])).toEqual([
      ['ERR_CONFIG_SCHEMA', true, 2, "registries: belongs in the app's root file, next to islet.lock"],
      ['ERR_CONFIG_SCHEMA', true, 4, "the plugins: map (registry plugins) belongs in the app's root file, next to islet.lock"],
    ])
    expect(found[1]!.hint).toMatch(/^move it to app\.yaml, where islet plugin add and upgrade read and edit it/)
  })

  it("the plugin commands resolve from an entry's registry: as islet run does, not from the default", () => {
    const app = join(dir, 'entry-registry')
    mkdirSync(app)
    // Nothing listens there: the point is where the command goes, which its error names.
    writeFileSync(join(app, 'app.yaml'), "apiVersion: islet/v1\nplugins:\n  '@acme/geo': { version: ^1.0.0, registry: 'http://127.0.0.1:9/' }\n")
    const r = islet(['plugin', 'upgrade', '--data-dir', join(app, 'data')], { cwd: app })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/ERR_REGISTRY_UNREACHABLE.*http:\/\/127\.0\.0\.1:9\//)
  })
})
