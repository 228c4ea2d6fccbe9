// Test support: the real `npm` CLI (the system's npm 11) against a registry on loopback, with a userconfig and a cache
// of its own in a temp folder — never the user's ~/.npmrc or ~/.npm. Children are asynchronous on purpose: a test's
// in-process servers (the registry, offline-tuf.ts's proxy) must keep answering while npm runs.
import { spawn } from 'node:child_process'
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface NpmResult {
  status: number | null
  stdout: string
  stderr: string
}

export interface NpmSession {
  userconfig: string
  cache: string
  /** Runs `npm …args` in `cwd` (default: the session folder); `answers` replies to prompts (e.g. `Username`). */
  run(args: string[], options?: { cwd?: string; answers?: Record<string, string>; timeoutMs?: number }): Promise<NpmResult>
  /** Writes `//host:port/:_authToken=<token>` as `npm login` does. */
  setToken(token: string): void
  /** The token `npm login` stored, if any. */
  token(): string | undefined
}

/** `npm` with `registry=<url>` in a fresh userconfig and cache under `dir`; `env` is added (offline-tuf's). */
export function npmSession(dir: string, registry: string, env: Record<string, string> = {}): NpmSession {
  mkdirSync(dir, { recursive: true })
  const userconfig = join(dir, 'npmrc')
  const cache = join(dir, 'npm-cache')
  writeFileSync(userconfig, `registry=${registry}\n`)
  const nerfed = registry.replace(/^https?:/, '')
  // An npm started under `npm test` inherits the outer run's npm_* variables (its registry, its userconfig): drop them.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))) as Record<string, string>
  const childEnv: Record<string, string> = {
    ...inherited,
    npm_config_userconfig: userconfig, npm_config_cache: cache, npm_config_globalconfig: join(dir, 'global-npmrc'),
    npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_loglevel: 'notice',
    npm_config_registry: registry, NO_COLOR: '1', ...env,
  }
  return {
    userconfig, cache,
    run(args, options = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn('npm', args, { cwd: options.cwd ?? dir, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] })
        let stdout = '', stderr = '', seen = ''
        const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`npm ${args.join(' ')} still running after ${options.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`)) }, options.timeoutMs ?? 60_000)
        // npm 11 reads one prompt at a time; piping every answer up front ends in "Exit handler never called!".
        const answer = (chunk: string) => {
          seen += chunk
          const last = seen.split('\n').pop() ?? ''
          if (!options.answers || !/:\s*$/.test(last)) return
          const prompt = Object.keys(options.answers).find((p) => last.startsWith(p))
          if (prompt === undefined) return
          child.stdin!.write(`${options.answers[prompt]}\n`)
          seen += '\n'
        }
        child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; answer(d) })
        child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; answer(d) })
        if (!options.answers) child.stdin!.end()
        child.on('error', (error) => { clearTimeout(timer); reject(error) })
        child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }) })
      })
    },
    setToken(token) { appendFileSync(userconfig, `${nerfed}:_authToken=${token}\n`) },
    token() {
      const line = readFileSync(userconfig, 'utf8').split('\n').find((l) => l.startsWith(`${nerfed}:_authToken=`))
      return line?.slice(`${nerfed}:_authToken=`.length).replace(/^"|"$/g, '')
    },
  }
}

/** A folder holding a package to publish: package.json plus `files` (paths relative to it). */
export function writePackage(dir: string, packageJson: Record<string, unknown>, files: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson, null, 2) + '\n')
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  return dir
}
