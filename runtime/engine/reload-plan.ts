// What a config reload must restart: the modules whose declaration, referenced pipelines or dependencies changed,
// the new ones, and the removed ones. Pure: two configs and the new graph in, names out.
// stableJson: JSON with sorted keys, so equal values give equal text whatever their key order. (Its overloads type
// an object literal's text as string | undefined; a value typed `object` gets string.)
import { stringify as stableJson } from 'safe-stable-stringify'
import type { AppConfig, ModuleDecl, PipelineDecl, StepDecl } from '../config/types.ts'
import type { ModuleGraph } from './graph.ts'

export interface ReloadPlan {
  /** Modules only the new config declares, in start order. */
  added: string[]
  /** Modules declared by both configs that must be replaced, in start order. */
  restarted: string[]
  /** Modules only the old config declares, in the old start order. */
  removed: string[]
  /** Modules that keep their instance. */
  kept: ReadonlySet<string>
  /** Why each added or restarted module is, for logs and status. */
  reasons: ReadonlyMap<string, string>
}

// What makes a declaration behave differently. Source lines and columns only move error messages, so an edit above a
// module does not restart it; the file counts, since relative paths resolve against it.
function moduleShape(decl: ModuleDecl): string {
  const shape: object = { type: decl.type, config: decl.config, dependsOn: decl.dependsOn, refs: decl.refs, file: decl.source.file }
  return stableJson(shape)
}

function pipelineShape(decl: PipelineDecl): string {
  const shape = (step: StepDecl): unknown => step.kind === 'step'
    ? { kind: step.kind, name: step.name, type: step.type, config: step.config, refs: step.refs, file: step.source.file }
    : { kind: step.kind, name: step.name, condition: step.condition, then: step.then.map(shape), else: step.else.map(shape) }
  const steps: object = { steps: decl.steps.map(shape), file: decl.source.file }
  return stableJson(steps)
}

/** Names of the pipelines whose steps differ between the two configs (including pipelines only one declares). */
export function changedPipelines(prev: AppConfig, next: AppConfig, typeChanged: TypeChanged = () => false): Set<string> {
  const changed = new Set<string>()
  for (const name of new Set([...Object.keys(prev.pipelines), ...Object.keys(next.pipelines)])) {
    const before = prev.pipelines[name]
    const after = next.pipelines[name]
    if (!before || !after || pipelineShape(before) !== pipelineShape(after) || usesType(after.steps, typeChanged)) changed.add(name)
  }
  return changed
}

/** A type now provided by other code than before (another version of its plugin), by kind; default: none. */
export type TypeChanged = (kind: 'module' | 'step', type: string) => boolean

export function planReload(prev: AppConfig, next: AppConfig, graph: ModuleGraph, typeChanged: TypeChanged = () => false): ReloadPlan {
  const before = new Map(prev.modules.map((m) => [m.name, m]))
  const pipelines = changedPipelines(prev, next, typeChanged)
  const reasons = new Map<string, string>()
  const added: string[] = []
  const restarted: string[] = []
  const kept = new Set<string>()
  // Start order puts every dependency first, so one pass sees each dependency's verdict before its dependents.
  for (const decl of graph.order) {
    const old = before.get(decl.name)
    const reason = !old ? 'new'
      : old.type !== decl.type ? `type changed from ${old.type} to ${decl.type}`
      : moduleShape(old) !== moduleShape(decl) ? 'its declaration changed'
      : typeChanged('module', decl.type) ? `its type ${decl.type} comes from another plugin version`
      : changedInput(old, decl) ?? changedReference(decl, pipelines) ?? changedDependency(decl, graph, reasons)
    if (reason === undefined) { kept.add(decl.name); continue }
    reasons.set(decl.name, reason)
    ;(old ? restarted : added).push(decl.name)
  }
  const names = new Set(next.modules.map((m) => m.name))
  const removed = prev.modules.map((m) => m.name).filter((name) => !names.has(name))
  return { added, restarted, removed, kept, reasons }
}

/** A file the module reads on start changed (its type's `inputs`, e.g. a new migration): a restart reads it. */
function changedInput(old: ModuleDecl, decl: ModuleDecl): string | undefined {
  const before = new Map((old.inputs ?? []).map((i) => [i.path, i.fingerprint]))
  const input = (decl.inputs ?? []).find((i) => before.get(i.path) !== i.fingerprint)
  return input === undefined ? undefined : `${input.path} changed`
}

function changedReference(decl: ModuleDecl, pipelines: ReadonlySet<string>): string | undefined {
  const name = decl.refs.pipelines.find((p) => pipelines.has(p))
  return name === undefined ? undefined : `pipeline '${name}' changed`
}

/** Whether a step of `steps` (in any branch) is of a type `typeChanged` says is other code now. */
function usesType(steps: readonly StepDecl[], typeChanged: TypeChanged): boolean {
  return steps.some((s) => s.kind === 'step' ? typeChanged('step', s.type) : usesType(s.then, typeChanged) || usesType(s.else, typeChanged))
}

function changedDependency(decl: ModuleDecl, graph: ModuleGraph, reasons: ReadonlyMap<string, string>): string | undefined {
  const dep = [...graph.dependencies.get(decl.name)!].find((d) => reasons.has(d))
  return dep === undefined ? undefined : `its dependency '${dep}' is replaced`
}
