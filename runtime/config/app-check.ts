// Whole-app checks (sdk/app-check.ts): once every declaration is checked on its own, each valid module's and step's
// type's `checkApp`, then each plugin's, runs over a read-only view of the app; what they report becomes diagnostics
// at file:line:col. The runtime knows no plugin's rules here: a third-party plugin checks its own references the same way.
import type { AppComponent, AppDeclaration, AppModule, AppProblem, AppReference, AppStep, AppView, SourcePosition } from '@islet/sdk'
import { isRecord } from '@islet/sdk'
import type { Registry } from '../plugins/registry.ts'
import { didYouMean } from '../suggest.ts'
import { messageOf } from '../errors.ts'
import type { RefSite } from './configs.ts'
import type { Diagnostic, DiagnosticCode, SourceLocation } from './diagnostics.ts'
import { deepFreeze } from './deep-freeze.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate, type PathSegment } from './locate.ts'
import type { ComponentDecl, ModuleDecl, PipelineDecl, SlotDecl, StepDecl } from './types.ts'

export interface AppParts {
  files: readonly LoadedFile[]
  modules: readonly ModuleDecl[]
  pipelines: Readonly<Record<string, PipelineDecl>>
  components: readonly ComponentDecl[]
  slots: readonly SlotDecl[]
  refs: readonly RefSite[]
}

/** Where a declaration is written: its file and the YAML path of its entry (a module's or step's config is under `config`). */
interface Place { file: LoadedFile; path: PathSegment[]; config: boolean }

const CODE = /^ERR_[A-Z0-9_]+$/

export function checkApp(parts: AppParts, registry: Registry): Diagnostic[] {
  const places = placesOf(parts.files)
  const where = new Map<AppDeclaration, Place>()
  const view = <T extends AppDeclaration>(decl: T, source: SourceLocation): T | undefined => {
    const place = places.get(keyOf(source))
    if (!place) return undefined
    where.set(decl, place)
    return Object.freeze(decl)
  }
  const position = (s: SourceLocation): SourcePosition => ({ file: s.file, line: s.line, column: s.col })

  const modules = parts.modules.map((m) => view<AppModule>({ kind: 'module', name: m.name, type: m.type, config: deepFreeze(m.config), source: position(m.source) }, m.source))
    .filter((m) => m !== undefined)
  const steps: AppStep[] = []
  const walk = (pipeline: string, list: readonly StepDecl[]): void => {
    for (const s of list) {
      if (s.kind === 'if') { walk(pipeline, s.then); walk(pipeline, s.else); continue }
      const step = view<AppStep>({ kind: 'step', pipeline, name: s.name, type: s.type, config: deepFreeze(s.config), source: position(s.source) }, s.source)
      if (step) steps.push(step)
      if (s.block) walk(pipeline, s.block)
      for (const branch of Object.values(s.branches ?? {})) walk(pipeline, branch)
    }
  }
  for (const p of Object.values(parts.pipelines)) walk(p.name, p.steps)
  const components = [...parts.components.map((c) => ({ decl: c, slot: false })), ...parts.slots.map((s) => ({ decl: s, slot: true }))]
    .map(({ decl, slot }) => view<AppComponent>({ kind: 'component', name: decl.name, slot,
      grants: deepFreeze(decl.grants) as Readonly<Record<string, unknown>>, source: position(decl.source) }, decl.source))
    .filter((c) => c !== undefined)
  const byName = new Map(modules.map((m) => [m.name, m]))
  const references = referencesOf(parts.refs, [...modules, ...steps], where)

  const diagnostics: Diagnostic[] = []
  const reporter = (owner: string, self: AppDeclaration | undefined) => (problem: AppProblem): void => {
    const at = problem.at ?? self
    const place = at ? where.get(at) : undefined
    if (!place || !Array.isArray(problem?.path) || typeof problem.message !== 'string') {
      const root = parts.files[0]!
      diagnostics.push(diagnosticAt(root.parsed, [], 'ERR_PLUGIN_INVALID',
        `${owner} reported a problem that names no declaration of this app or has no path and message: ${String(problem?.message)}`,
        'report this to the plugin author'))
      return
    }
    const path = [...place.path, ...(place.config ? ['config'] : []), ...problem.path]
    // A code tools cannot match on would break the diagnostic's contract: the plugin's fault, said as such.
    const coded = typeof problem.code === 'string' && CODE.test(problem.code)
    const found = coded
      ? diagnosticAt(place.file.parsed, path, problem.code as DiagnosticCode, problem.message, problem.hint, { key: problem.key })
      : diagnosticAt(place.file.parsed, path, 'ERR_PLUGIN_INVALID', `${owner} reported a problem with code '${String(problem.code)}', not an ERR_* code: ${problem.message}`,
        'report this to the plugin author', { key: problem.key })
    diagnostics.push(problem.severity === 'warning' ? { ...found, severity: 'warning' } : found)
  }
  const app = (owner: string, self?: AppDeclaration): AppView => ({
    modules: (type) => (type === undefined ? modules : modules.filter((m) => m.type === type)),
    module: (name) => byName.get(name),
    steps: (type) => (type === undefined ? steps : steps.filter((s) => s.type === type)),
    components: () => components,
    referencesTo: (name) => references.get(name) ?? [],
    report: reporter(owner, self),
    didYouMean,
  })
  const run = (owner: string, self: AppDeclaration | undefined, check: (app: AppView) => void): void => {
    try {
      check(app(owner, self))
    } catch (error) {
      const place = self ? where.get(self)! : { file: parts.files[0]!, path: [], config: false }
      diagnostics.push(diagnosticAt(place.file.parsed, self ? [...place.path, 'type'] : [], 'ERR_PLUGIN_INVALID',
        `${owner} threw while checking the app: ${messageOf(error)}`, 'report this to the plugin author'))
    }
  }

  for (const m of modules) {
    const check = registry.moduleType(m.type)?.definition.checkApp
    if (check) run(`module type '${m.type}'`, m, (a) => check(m.config, a, m))
  }
  for (const s of steps) {
    const check = registry.stepType(s.type)?.definition.checkApp
    if (check) run(`step type '${s.type}'`, s, (a) => check(s.config, a, s))
  }
  for (const plugin of registry.plugins()) {
    const check = plugin.checkApp
    if (check) run(`plugin ${plugin.name}@${plugin.version}`, undefined, (a) => check.call(plugin, a))
  }
  return diagnostics
}

const keyOf = (s: SourceLocation) => `${s.file}\0${s.line}\0${s.col}`

/**
 * Every module, step (at any depth) and component entry written in `files`, by the position the declarations carry
 * as `source`: a declaration only knows where it starts, and a problem's path is inside it.
 */
function placesOf(files: readonly LoadedFile[]): Map<string, Place> {
  const places = new Map<string, Place>()
  const add = (file: LoadedFile, path: PathSegment[], config: boolean) => {
    const key = keyOf(locate(file.parsed, path))
    if (!places.has(key)) places.set(key, { file, path, config })
  }
  const steps = (file: LoadedFile, list: unknown, path: PathSegment[]): void => {
    if (!Array.isArray(list)) return
    list.forEach((raw, i) => {
      if (!isRecord(raw)) return
      const at = [...path, i]
      if ('if' in raw) { steps(file, raw.then, [...at, 'then']); steps(file, raw.else, [...at, 'else']); return }
      add(file, at, true)
      steps(file, raw.do, [...at, 'do'])
      if (isRecord(raw.branches)) for (const [b, inner] of Object.entries(raw.branches)) steps(file, inner, [...at, 'branches', b])
    })
  }
  for (const file of files) {
    const { modules, pipelines, components } = file.value
    if (Array.isArray(modules)) modules.forEach((_, i) => add(file, ['modules', i], true))
    if (isRecord(pipelines)) for (const [name, p] of Object.entries(pipelines)) if (isRecord(p)) steps(file, p.steps, ['pipelines', name, 'steps'])
    if (Array.isArray(components)) components.forEach((_, i) => add(file, ['components', i], false))
  }
  return places
}

/** The `moduleRef` properties of valid declarations' configs, by the module they name (a `dependsOn` is no use of it). */
function referencesOf(refs: readonly RefSite[], decls: readonly (AppModule | AppStep)[], where: ReadonlyMap<AppDeclaration, Place>): Map<string, AppReference[]> {
  const configAt = new Map<string, AppModule | AppStep>()
  const pathKey = (file: LoadedFile, path: readonly PathSegment[]) => `${file.parsed.file}\0${path.join('\0')}`
  for (const d of decls) {
    const place = where.get(d)!
    configAt.set(pathKey(place.file, [...place.path, 'config']), d)
  }
  const found = new Map<string, AppReference[]>()
  for (const ref of refs) {
    if (ref.kind !== 'module') continue
    // The declaration whose config holds the property: the longest prefix of its path that ends in a `config`.
    for (let n = ref.path.length - 1; n > 0; n--) {
      if (ref.path[n - 1] !== 'config') continue
      const from = configAt.get(pathKey(ref.file, ref.path.slice(0, n)))
      if (!from) continue
      const list = found.get(ref.name) ?? []
      list.push(Object.freeze({ from, path: Object.freeze(ref.path.slice(n)) }))
      found.set(ref.name, list)
      break
    }
  }
  return found
}
