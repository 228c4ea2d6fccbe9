// The module graph: who depends on whom (dependsOn, module references, modules used by referenced pipelines),
// a topological start order, and cycles reported with their chain.
import type { AppConfig, ModuleDecl } from '../config/types.ts'
import { ConfigError, type Diagnostic } from '../config/diagnostics.ts'

export interface ModuleGraph {
  /** Start order: every module after all of its dependencies; declaration order breaks ties. */
  order: ModuleDecl[]
  /** Direct dependencies of each module (names). */
  dependencies: ReadonlyMap<string, ReadonlySet<string>>
  /** Pipelines each module references directly. */
  pipelines: ReadonlyMap<string, readonly string[]>
}

/** Modules the steps of a pipeline use, including steps nested in branches. */
export function pipelineModules(config: AppConfig, pipeline: string): Set<string> {
  const used = new Set<string>()
  const walk = (steps: AppConfig['pipelines'][string]['steps']) => {
    for (const step of steps) {
      if (step.kind === 'step') step.refs.modules.forEach((m) => used.add(m))
      else { walk(step.then); walk(step.else) }
    }
  }
  const decl = config.pipelines[pipeline]
  if (decl) walk(decl.steps)
  return used
}

/** Builds the graph; throws a ConfigError locating each cycle at the module that closes it. */
export function buildGraph(config: AppConfig): ModuleGraph {
  const byName = new Map(config.modules.map((m) => [m.name, m]))
  const dependencies = new Map<string, Set<string>>()
  const pipelines = new Map<string, readonly string[]>()
  for (const m of config.modules) {
    const deps = new Set<string>([...m.dependsOn, ...m.refs.modules])
    for (const p of m.refs.pipelines) pipelineModules(config, p).forEach((d) => deps.add(d))
    deps.delete(m.name) // a module's pipeline may use the module itself; that is not a dependency
    dependencies.set(m.name, new Set([...deps].filter((d) => byName.has(d))))
    pipelines.set(m.name, [...new Set(m.refs.pipelines)])
  }

  const order: ModuleDecl[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const diagnostics: Diagnostic[] = []
  const reported = new Set<string>()
  const visit = (name: string, chain: string[]): void => {
    const s = state.get(name)
    if (s === 'done') return
    if (s === 'visiting') {
      const cycle = [...chain.slice(chain.indexOf(name)), name]
      const key = [...cycle].slice(0, -1).sort().join(',')
      if (reported.has(key)) return
      reported.add(key)
      const decl = byName.get(chain[chain.length - 1])!
      diagnostics.push({
        ...decl.source, severity: 'error', code: 'ERR_MODULE_GRAPH_CYCLE', path: '',
        message: `module dependencies form a cycle: ${cycle.join(' → ')}`,
        hint: 'remove one of these dependencies (dependsOn, a module reference, or a module used by a referenced pipeline)',
      })
      return
    }
    state.set(name, 'visiting')
    for (const dep of dependencies.get(name) ?? []) visit(dep, [...chain, name])
    state.set(name, 'done')
    order.push(byName.get(name)!)
  }
  for (const m of config.modules) visit(m.name, [])
  if (diagnostics.length > 0) throw new ConfigError(diagnostics)
  return { order, dependencies, pipelines }
}
