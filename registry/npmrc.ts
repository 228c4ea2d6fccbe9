// The registry and token an npm user already configured, read as npm reads them: `.npmrc` in the package folder,
// then the user's (`$npm_config_userconfig`, else ~/.npmrc). A token is keyed by the registry's "nerf dart"
// (`//host:port/path/:_authToken=…`), looked up from the registry's full path up to its host, so one `npm login`
// serves both `npm publish` and `islet plugin publish`. `${VAR}` in a value is the environment variable, as in npm.
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { scopeOf } from './package-name.ts'

export type Npmrc = Map<string, string>

/** The settings of the npmrc files that apply in `dir`, the nearer one winning. */
export function readNpmrc(dir: string, env: NodeJS.ProcessEnv = process.env): Npmrc {
  const settings: Npmrc = new Map()
  const user = env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG ?? join(homedir(), '.npmrc')
  for (const file of [user, join(dir, '.npmrc')]) {
    let text: string
    try { text = readFileSync(file, 'utf8') } catch { continue }
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
      const eq = line.indexOf('=')
      if (eq < 0) continue
      const value = line.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').replace(/\$\{([^}]+)\}/g, (_, name: string) => env[name] ?? '')
      settings.set(line.slice(0, eq).trim(), value)
    }
  }
  return settings
}

/** The registry a package goes to: its scope's (`@acme:registry=`), else `registry=`; undefined when neither is set. */
export function registryFor(npmrc: Npmrc, name: string): string | undefined {
  const scope = scopeOf(name)
  return (scope ? npmrc.get(`${scope}:registry`) : undefined) ?? npmrc.get('registry')
}

/** The `_authToken` configured for `registry`, matched from its full path up to its host. */
export function tokenFor(npmrc: Npmrc, registry: string): string | undefined {
  const url = new URL(registry)
  const segments = url.pathname.split('/').filter(Boolean)
  for (let n = segments.length; n >= 0; n--) {
    const path = segments.slice(0, n).map((s) => `${s}/`).join('')
    const token = npmrc.get(`//${url.host}/${path}:_authToken`)
    if (token) return token
  }
  return undefined
}
