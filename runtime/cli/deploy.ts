// `islet deploy <slot> <files or dirs…>`: sends component files to a running app's admin API (POST
// <prefix>/slots/:slot/versions), and `--rollback` / `--promote-version n` for the other two slot actions. It prints
// the diagnostics exactly as `islet validate` does, located at the local files, then one summary line; with
// `--format json` the DeployResult itself. It talks to what --url names and nothing else; the token (--token or
// ISLET_TOKEN) goes in the Authorization header and is never printed.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import type { DeployResult, Diagnostic } from '@islet/sdk'
import { formatDiagnostic } from '../config/diagnostics.ts'
import { IsletError, messageOf } from '../errors.ts'
import type { ParsedOptions } from './options.ts'

/** What a directory argument contributes: the sources a deployment may hold (the server refuses anything else). */
const SOURCE = /\.(?:ts|mts|js|mjs|json)$/
/** Beyond this the server refuses the body (413) before it reads a file; said here, with the sizes that would do. */
const MAX_LOCAL_BYTES = 1024 * 1024
const MAX_LOCAL_FILES = 1000
/** A deploy type-checks and runs examples: generous, but a hung server does not hang CI forever. */
const REQUEST_TIMEOUT_MS = 5 * 60_000

const usage = (message: string) => new IsletError('ERR_CLI_USAGE', message)

export default async function deploy({ values, positionals }: ParsedOptions): Promise<number> {
  const [slot, ...paths] = positionals as [string, ...string[]]
  const api = adminApi(values.url as string | undefined, (values.token as string | undefined) ?? (process.env.ISLET_TOKEN || undefined))
  const json = values.format === 'json'
  const action = chooseAction(values, paths)
  const base = `slots/${encodeURIComponent(slot)}`
  let answer: Answer
  let local = new Map<string, string>()
  if (action === 'rollback') {
    const to = values.to === undefined ? undefined : count(values.to as string, '--to')
    answer = await api.post(`${base}/rollback`, to === undefined ? undefined : { to })
  } else if (action === 'promote-version') {
    answer = await api.post(`${base}/versions/${count(values['promote-version'] as string, '--promote-version')}/promote`, undefined)
  } else {
    const collected = collectFiles(paths)
    local = collected.local
    const entry = (values.entry as string | undefined) ?? defaultEntry(collected.files)
    const query = [values['dry-run'] ? 'dryRun=1' : '', values.promote ? 'promote=1' : ''].filter(Boolean).join('&')
    answer = await api.post(`${base}/versions${query ? `?${query}` : ''}`, {
      files: collected.files, ...(entry !== undefined ? { entry } : {}),
      ...(values.message !== undefined ? { message: values.message } : {}),
    })
  }
  if (!isDeployResult(answer.body)) return printError(answer, json, api.shown)
  const result = answer.body
  if (json) {
    console.log(JSON.stringify(result, null, 2))
  } else {
    for (const d of result.diagnostics) console.log(formatDiagnostic(locate(d, local)))
    console.log(summary(result, action, values.url as string))
  }
  return result.ok ? 0 : 1
}

type Action = 'deploy' | 'rollback' | 'promote-version'

/** Which of the three the options ask for, refusing the combinations that mean nothing. */
function chooseAction(values: ParsedOptions['values'], paths: string[]): Action {
  const rollback = values.rollback === true
  const promoteVersion = values['promote-version'] !== undefined
  if (rollback && promoteVersion) throw usage('--rollback and --promote-version are two actions: give one')
  const deployOnly = ['dry-run', 'promote', 'entry', 'message'].filter((o) => values[o] !== undefined && values[o] !== false)
  if (rollback || promoteVersion) {
    const flag = rollback ? '--rollback' : '--promote-version'
    if (paths.length > 0) throw usage(`${flag} takes no files (got ${paths.map((p) => `'${p}'`).join(' ')}): it acts on versions already deployed`)
    if (deployOnly.length > 0) throw usage(`${deployOnly.map((o) => `--${o}`).join(', ')} go with files to deploy, not with ${flag}`)
    if (!rollback && values.to !== undefined) throw usage('--to goes with --rollback')
    return rollback ? 'rollback' : 'promote-version'
  }
  if (values.to !== undefined) throw usage('--to goes with --rollback (islet deploy <slot> --rollback --to 3)')
  if (paths.length === 0) {
    throw usage('give the files or folders to deploy (islet deploy <slot> <files or dirs…>), or --rollback, or --promote-version <n>')
  }
  if (values['dry-run'] === true && values.promote === true) throw usage('--dry-run stores nothing, so there is nothing to --promote: give one')
  return 'deploy'
}

function count(text: string, option: string): number {
  if (!/^[1-9]\d{0,14}$/.test(text)) throw usage(`${option} takes a version id (1, 2, 3…), not '${text}'`)
  return Number(text)
}

/**
 * The deployment's files: a folder contributes its sources under paths relative to it; a file, its path relative to
 * the current folder (so `islet deploy pricing index.ts lib/rates.ts` keeps the layout its imports expect).
 * `local` maps each deployment path back to the local file, for locating diagnostics.
 */
function collectFiles(args: string[]): { files: Record<string, string>; local: Map<string, string> } {
  const files: Record<string, string> = {}
  const local = new Map<string, string>()
  let bytes = 0
  const add = (path: string, file: string) => {
    const previous = local.get(path)
    if (previous !== undefined) throw usage(`two arguments give the deployment a file '${path}' (${localName(previous)} and ${localName(file)}): deploy one folder, or files from one folder`)
    const size = statSync(file).size
    bytes += size
    if (bytes > MAX_LOCAL_BYTES || local.size >= MAX_LOCAL_FILES) {
      throw usage(`the files come to more than ${local.size >= MAX_LOCAL_FILES ? `${MAX_LOCAL_FILES} files` : `${MAX_LOCAL_BYTES} bytes`}; a deployment holds at most 64 files and 512 KiB (256 KiB each): deploy the component's folder, not its parent`)
    }
    local.set(path, file)
    files[path] = readFileSync(file, 'utf8')
  }
  for (const arg of args) {
    const abs = resolve(arg)
    let stat
    try {
      stat = statSync(abs)
    } catch {
      throw usage(`'${arg}' does not exist: give the component's files or its folder`)
    }
    if (stat.isDirectory()) {
      const found = sourcesIn(abs)
      if (found.length === 0) throw usage(`'${arg}' holds no .ts, .mts, .js, .mjs or .json file to deploy`)
      for (const file of found) add(relative(abs, file).split(sep).join('/'), file)
    } else if (stat.isFile()) {
      const path = relative(process.cwd(), abs)
      if (path.startsWith('..') || isAbsolute(path)) {
        throw usage(`'${arg}' is outside the current folder, so its path in the deployment is unclear: run islet deploy from the component's folder, or pass the folder itself`)
      }
      add(path.split(sep).join('/'), abs)
    } else {
      throw usage(`'${arg}' is neither a file nor a folder`)
    }
  }
  return { files, local }
}

/** The sources under `dir`, recursively; node_modules and hidden entries are not part of a component. */
function sourcesIn(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sourcesIn(path))
    else if (entry.isFile() && SOURCE.test(entry.name)) out.push(path)
  }
  return out
}

/**
 * The server's default entry is index.ts; a single file sent under another path is clearly the entry, and so is the
 * one `…/index.ts` among files named from a parent folder (`islet deploy pricing pricing/index.ts pricing/lib/x.ts`).
 */
function defaultEntry(files: Record<string, string>): string | undefined {
  const paths = Object.keys(files)
  if (paths.includes('index.ts')) return undefined
  if (paths.length === 1) return paths[0]
  const indexes = paths.filter((p) => p.endsWith('/index.ts'))
  return indexes.length === 1 ? indexes[0] : undefined
}

/** A diagnostic about a deployed file, pointed at the local file it came from (an editor or terminal can open it). */
function locate(d: Diagnostic, local: Map<string, string>): Diagnostic {
  const file = d.file === null ? undefined : local.get(d.file.split(sep).join('/'))
  return file === undefined ? d : { ...d, file }
}

/** `url` is --url as given, so the promote command it suggests can be pasted as it is. */
function summary(r: DeployResult, action: Action, url: string): string {
  const v = r.version
  const name = v ? `${r.slot} version ${v.id} (sha256 ${v.hash.slice(0, 12)})` : r.slot
  const errors = r.diagnostics.filter((d) => d.severity === 'error').length
  const problems = `${errors} error${errors === 1 ? '' : 's'}`
  let head: string
  if (!r.ok) {
    head = r.dryRun ? `refused: ${r.slot}, ${problems} (dry run: nothing stored)`
      : action === 'deploy' ? `refused: ${name} stored as rejected, ${problems}; not promoted`
      : `refused: ${name} not made live, ${problems}; the live version is unchanged`
  } else if (r.dryRun) head = `valid: ${r.slot} would accept these files (dry run: nothing stored)`
  else if (r.promoted) head = `${action === 'rollback' ? 'rolled back' : action === 'promote-version' ? 'promoted' : 'deployed'}: ${name} is live`
  else head = `staged: ${name}, not promoted (islet deploy ${r.slot} --promote-version ${v?.id ?? '<n>'} --url ${url} makes it live)`
  const steps = r.steps.map((s) => `${s.name} ${s.status === 'skipped' ? 'skipped' : `${s.status === 'failed' ? 'failed ' : ''}${Math.round(s.ms)} ms`}`)
  return steps.length ? `${head}; steps: ${steps.join(', ')}` : head
}

interface Answer {
  status: number
  body: unknown
}

/** The admin API at `url` (the server; a path in it is the admin prefix, default /admin). */
function adminApi(url: string | undefined, token: string | undefined) {
  if (url === undefined) throw usage('give the app\'s address: --url http://127.0.0.1:8080 (the server the islet.admin module is listed under)')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw usage(`--url '${url}' is not a URL, e.g. http://127.0.0.1:8080`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usage(`--url must be an http(s) URL, not ${parsed.protocol}`)
  if (parsed.search || parsed.hash) throw usage('--url takes the server (and the admin prefix if it is not /admin), no query or fragment')
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) throw usage('the token (--token or ISLET_TOKEN) holds spaces or characters a header cannot carry')
  const prefix = parsed.pathname === '/' ? '/admin' : parsed.pathname.replace(/\/+$/, '')
  if (parsed.username || parsed.password) throw usage('--url must not carry a user or password: pass the token with --token or ISLET_TOKEN')
  // Shown in messages: never the token.
  const shown = `${parsed.origin}${prefix}`
  const headers: Record<string, string> = { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }
  return {
    shown,
    async post(path: string, body: unknown): Promise<Answer> {
      const target = `${parsed.origin}${prefix}/${path}`
      let response: Response
      try {
        response = await fetch(target, {
          method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause
        throw new IsletError('ERR_CLI_UNREACHABLE', `could not reach the admin API at ${shown}: ${cause?.code ?? cause?.message ?? messageOf(error)}; is the app running, and is --url its server's address?`)
      }
      const text = await response.text()
      try {
        return { status: response.status, body: JSON.parse(text) }
      } catch {
        throw new IsletError('ERR_CLI_BAD_RESPONSE', `${shown} answered ${response.status} ${response.headers.get('content-type') ?? 'without a Content-Type'}, not the admin API's JSON: ` +
          `is --url the server the islet.admin module is listed under${response.status === 404 ? ', and does the app list that module under its middleware' : ''}?`)
      }
    },
  }
}

function isDeployResult(body: unknown): body is DeployResult {
  return typeof body === 'object' && body !== null && typeof (body as DeployResult).ok === 'boolean' && Array.isArray((body as DeployResult).diagnostics)
}

/** An error answer: `CODE: message` on stderr (the JSON body on stdout with --format json); exit 1. */
function printError(answer: Answer, json: boolean, shown: string): number {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | null)?.error
  if (typeof error?.code !== 'string') {
    throw new IsletError('ERR_CLI_BAD_RESPONSE', `${shown} answered ${answer.status} with JSON that is neither a deploy result nor an error: is --url an islet app?`)
  }
  if (json) console.log(JSON.stringify(answer.body, null, 2))
  // The app's own 404: no admin module answered there. The app's auth middleware asking for credentials: the admin
  // API never answers ERR_AUTH_REQUIRED (its own is ERR_ADMIN_AUTH_REQUIRED), so an auth module ran before it, or
  // instead of it.
  const hint = error.code === 'ERR_HTTP_NOT_FOUND'
    ? ` (no admin API at ${shown}: is --url the server whose middleware lists the islet.admin module, with its prefix if that is not /admin?)`
    : error.code === 'ERR_AUTH_REQUIRED'
    ? ` (the app's auth middleware answered, not the admin API at ${shown}: list the islet.admin module in that server's middleware, before its auth modules, or send a token)`
    : ''
  console.error(`${error.code}: ${String(error.message)}${hint}`)
  return 1
}

const localName = (file: string) => relative(process.cwd(), file) || file
