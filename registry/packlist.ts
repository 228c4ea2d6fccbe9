// Which files of a package folder go into its tarball, decided as npm decides (npm-packlist 10, the rules `npm pack`
// and `npm publish` apply), so that `islet plugin pack` and `npm pack` of one folder hold the same files:
// - always: package.json, README*, LICENSE*/LICENCE*, COPYING*, the `main`, `browser` and `bin` files;
// - never: .git, /node_modules, .npmrc, lock files, editor and OS debris (npm's default rules below);
// - `files` in package.json, when present, lists what else goes in (and the root .npmignore/.gitignore are then
//   ignored); without it, everything not excluded by .npmignore (or, without one, .gitignore), folder by folder.
// Patterns follow npm's (gitignore-like, case-insensitive, a pattern without `/` matches a name at any depth).
// What this does not do: bundled dependencies and workspaces (a plugin package has neither: its dependencies are
// other plugins by range). On top of npm, `*.tgz` is never packed: a previous pack's output is not part of a package.
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface Rule {
  negate: boolean
  /** Matched against the whole path relative to the rule's folder (it has a `/`), else against one name. */
  anchored: boolean
  dirOnly: boolean
  /** One RegExp per `/`-separated segment, `undefined` for `**`. */
  segments: (RegExp | undefined)[]
  whole: RegExp
}

interface RuleSet {
  /** Folder the rules are relative to, '' for the package root. */
  base: string
  rules: Rule[]
}

/** npm-packlist's defaults: applied in every folder. */
const DEFAULTS = ['.npmignore', '.gitignore', '**/.git', '**/.svn', '**/.hg', '**/CVS', '**/.git/**', '**/.svn/**',
  '**/.hg/**', '**/CVS/**', '/.lock-wscript', '/.wafpickle-*', '/build/config.gypi', 'npm-debug.log', '**/.npmrc',
  '.*.swp', '.DS_Store', '**/.DS_Store/**', '._*', '**/._*/**', '*.orig', '/archived-packages/**']

/** npm-packlist's strict rules of a package root: they win over everything before them. */
const STRICT = ['/.git', '!/package.json', '!/readme{,.*[^~$]}', '!/copying{,.*[^~$]}', '!/license{,.*[^~$]}',
  '!/licence{,.*[^~$]}', '/.git', '/node_modules', '.npmrc', '/package-lock.json', '/yarn.lock', '/pnpm-lock.yaml',
  '/bun.lockb']

/** Islet's own: never pack a packed tarball. */
const ISLET = ['*.tgz']

export interface PackageFields {
  files?: unknown
  main?: unknown
  browser?: unknown
  bin?: unknown
}

/** The package-relative paths (`/`-separated, sorted) npm would pack from `dir`, whose package.json is `pkg`. */
export function packList(dir: string, pkg: PackageFields): string[] {
  const required: string[] = []
  const root: RuleSet[] = [{ base: '', rules: parseRules(DEFAULTS) }]
  const strict = [...STRICT]
  const files = Array.isArray(pkg.files) ? pkg.files.filter((f): f is string => typeof f === 'string') : undefined
  if (files) {
    const include = ['*']
    for (let file of files) {
      if (file.startsWith('./')) file = file.slice(1)
      if (file.endsWith('/*')) file += '*'
      let kind: 'file' | 'dir' | 'pattern' | 'other' = 'pattern'
      try {
        const stat = lstatSync(join(dir, file.replace(/^!+/, '')))
        kind = stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : 'other'
      } catch { /* not there: a pattern */ }
      if (kind === 'file') {
        strict.unshift(`!${file}`)
        required.push(file.startsWith('/') ? file.slice(1) : file)
      } else if (kind === 'dir') include.push(`!${file}`, `!${file}/**`)
      else if (kind === 'pattern') include.push(`!${file}`)
    }
    root.push({ base: '', rules: parseRules(include) })
  } else {
    const ignore = ignoreFileOf(dir)
    if (ignore) root.push({ base: '', rules: parseRules(ignore) })
  }
  for (const field of [pkg.browser, pkg.main]) if (typeof field === 'string') strict.push(`!/${field}`)
  if (typeof pkg.bin === 'string') strict.push(`!/${pkg.bin}`)
  else if (pkg.bin && typeof pkg.bin === 'object') for (const v of Object.values(pkg.bin)) if (typeof v === 'string') strict.push(`!/${v}`)
  root.push({ base: '', rules: parseRules(strict) }, { base: '', rules: parseRules(ISLET) })

  const out: string[] = []
  walk(dir, '', [root], required, out)
  return out.sort()
}

/** Rule sets per folder level, outermost first: a level can only drop what the levels above let in. */
function walk(dir: string, rel: string, levels: RuleSet[][], required: string[], out: string[]): void {
  for (const name of readdirSync(join(dir, rel)).sort()) {
    if (name.includes('*')) continue   // npm refuses names Windows cannot hold
    const path = rel ? `${rel}/${name}` : name
    const stat = lstatSync(join(dir, path))
    const isDir = stat.isDirectory()
    if (!isDir && !stat.isFile()) continue   // links, sockets, devices: never packed
    if (!levels.every((sets) => included(sets, path, isDir))) continue
    if (!isDir) { out.push(path); continue }
    // A folder's own .npmignore (else .gitignore) applies below it, with npm's defaults relative to it, and the
    // files `files` names explicitly stay in whatever it says.
    const nested: RuleSet[] = [{ base: path, rules: parseRules(DEFAULTS) }]
    const ignore = ignoreFileOf(join(dir, path))
    if (ignore) nested.push({ base: path, rules: parseRules(ignore) })
    const keep = required.filter((f) => f.startsWith(`${path}/`)).map((f) => `!/${f.slice(path.length + 1)}`)
    nested.push({ base: path, rules: parseRules(['/.git', ...keep]) })
    walk(dir, path, [...levels, nested], required, out)
  }
}

function ignoreFileOf(dir: string): string[] | undefined {
  for (const file of ['.npmignore', '.gitignore']) {
    try { return readFileSync(join(dir, file), 'utf8').split(/\r?\n/) } catch { /* absent */ }
  }
  return undefined
}

/** ignore-walk's verdict: start included, let every matching rule in order say in (negated) or out. */
function included(sets: RuleSet[], path: string, isDir: boolean): boolean {
  let verdict = true
  for (const set of sets) {
    const rel = set.base ? path.slice(set.base.length + 1) : path
    for (const rule of set.rules) {
      if (rule.negate === verdict) continue
      if (matches(rule, rel, isDir)) verdict = rule.negate
    }
  }
  return verdict
}

function matches(rule: Rule, rel: string, isDir: boolean): boolean {
  const parts = rel.split('/')
  if (!rule.anchored) {
    // A name rule: the entry's own name; an exclusion also catches everything below a folder of that name.
    const name = parts.at(-1)!
    return (isDir || !rule.dirOnly) && rule.whole.test(name)
  }
  if ((isDir || !rule.dirOnly) && rule.whole.test(rel)) return true
  // A folder is entered when an inclusion could match something inside it (npm's partial match).
  return isDir && rule.negate && partial(rule, parts)
}

function partial(rule: Rule, parts: string[]): boolean {
  for (let i = 0; i < parts.length; i++) {
    const segment = rule.segments[i]
    if (i >= rule.segments.length) return false
    if (segment === undefined) return true   // `**`: anything below may match
    if (!segment.test(parts[i]!)) return false
  }
  return true
}

function parseRules(lines: readonly string[]): Rule[] {
  const rules: Rule[] = []
  for (const raw of lines) {
    let line = raw.trim().replace(/\/{2,}/g, '/')   // minimatch reads `a//b` as `a/b`
    if (line === '' || line.startsWith('#')) continue
    let negate = false
    while (line.startsWith('!')) { negate = !negate; line = line.slice(1) }
    const dirOnly = line.endsWith('/')
    if (dirOnly) line = line.replace(/\/+$/, '')
    const anchored = line.includes('/')
    if (line.startsWith('/')) line = line.slice(1)
    if (line === '') continue
    const segments = line.split('/').map((s) => s === '**' ? undefined : new RegExp(`^${segmentSource(s)}$`, 'i'))
    rules.push({ negate, anchored, dirOnly, segments, whole: new RegExp(`^${pathSource(line)}$`, 'i') })
  }
  return rules
}

function pathSource(glob: string): string {
  const segments = glob.split('/')
  let source = ''
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1
    if (segment === '**') {
      source += i === 0 ? (last ? '.*' : '(?:.*/)?') : (last ? '(?:/.*)?' : '(?:/.*)?/')
      return
    }
    const afterGlobstar = i > 0 && segments[i - 1] === '**'
    source += (i > 0 && !afterGlobstar ? '/' : '') + segmentSource(segment)
  })
  return source
}

/** One path segment of a glob: `*`, `?`, `[…]`, `{a,b}`; dot files match (npm passes `dot: true`). */
function segmentSource(glob: string): string {
  let source = ''
  let braces = 0
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') source += '[^/]*'
    else if (c === '?') source += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end < 0) { source += '\\['; continue }
      let body = glob.slice(i + 1, end)
      if (body.startsWith('!')) body = `^${body.slice(1)}`
      source += `[${body.replace(/\\/g, '\\\\')}]`
      i = end
    } else if (c === '{') { braces += 1; source += '(?:' }
    else if (c === '}' && braces > 0) { braces -= 1; source += ')' }
    else if (c === ',' && braces > 0) source += '|'
    else if (c === '\\' && i + 1 < glob.length) source += `\\${glob[++i]}`
    else source += c.replace(/[.+^$()|\\/]/g, '\\$&')
  }
  return source
}
