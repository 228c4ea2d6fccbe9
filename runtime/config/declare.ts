// From file contents to module and pipeline declarations: types resolved, configs validated, references collected.
import { dirname, relative } from 'node:path'
import { isRecord } from '@islet/sdk'
import type { Registry } from '../plugins/registry.ts'
import { outsideMessage } from './confine.ts'
import { lookupType, validateConfig, type Declaring, type RefSite, type ViewUse } from './configs.ts'
import { languageOf } from '../expressions/language.ts'
import type { Diagnostic, SourceLocation } from './diagnostics.ts'
import type { LoadedFile } from './imports.ts'
import { diagnosticAt, locate } from './locate.ts'
import { moduleInputs, whereInConfig } from './module-inputs.ts'
import { declareSteps } from './steps.ts'
import { checkModuleConfig } from './module-check.ts'
import type { ModuleDecl, ModuleInput, PipelineDecl } from './types.ts'
import { messageOf } from '../errors.ts'

export interface Declared {
  modules: ModuleDecl[]
  pipelines: Record<string, PipelineDecl>
  /** Every name declared, also those whose declaration has errors: references to them are not the problem. */
  names: { modules: string[]; pipelines: string[] }
  refs: RefSite[]
  /** Where pipelines read a trigger's own variables (checked against the triggers that run them, see triggers.ts). */
  viewUses: ViewUse[]
  diagnostics: Diagnostic[]
}

/** `file.yaml:3:5`, how duplicate messages name both places. */
export const where = (f: LoadedFile, l: SourceLocation) => `${f.name}:${l.line}:${l.col}`

/**
 * Declares every module and pipeline of `files`, in order; a second declaration of a name is an error, not a merge.
 * `dataDir`, when known, is where `x-islet-path: data` values must stay (see configs.ts checkPath).
 */
export function declare(files: readonly LoadedFile[], registry: Registry, options: { dataDir?: string } = {}): Declared {
  // The root file comes first; its folder is the app's.
  const appDir = files[0] ? dirname(files[0].parsed.file) : ''
  const ctx: Declaring = { registry, diagnostics: [], refs: [], appDir, dataDir: options.dataDir, language: languageOf(registry), viewUses: [] }
  const modules: ModuleDecl[] = []
  const pipelines: Record<string, PipelineDecl> = Object.create(null)
  const firstModule = new Map<string, string>()
  const firstPipeline = new Map<string, string>()
  for (const file of files) {
    const list = Array.isArray(file.value.modules) ? file.value.modules : []
    list.forEach((raw, i) => {
      if (!isRecord(raw) || typeof raw.name !== 'string') return
      const at = locate(file.parsed, ['modules', i, 'name'])
      const first = firstModule.get(raw.name)
      if (first) {
        ctx.diagnostics.push(diagnosticAt(file.parsed, ['modules', i, 'name'], 'ERR_CONFIG_DUPLICATE_MODULE',
          `module '${raw.name}' is declared twice: at ${first} and at ${where(file, at)}`,
          'give one of them another name; declarations are never merged'))
        return
      }
      firstModule.set(raw.name, where(file, at))
      const decl = declareModule(ctx, file, raw, i)
      if (decl) modules.push(decl)
    })
    if (!isRecord(file.value.pipelines)) continue
    for (const [name, raw] of Object.entries(file.value.pipelines)) {
      if (!isRecord(raw)) continue
      const at = locate(file.parsed, ['pipelines', name], { key: true })
      const first = firstPipeline.get(name)
      if (first) {
        ctx.diagnostics.push(diagnosticAt(file.parsed, ['pipelines', name], 'ERR_CONFIG_DUPLICATE_PIPELINE',
          `pipeline '${name}' is declared twice: at ${first} and at ${where(file, at)}`,
          'give one of them another name; declarations are never merged', { key: true }))
        continue
      }
      firstPipeline.set(name, where(file, at))
      const steps = declareSteps(ctx, file, name, Array.isArray(raw.steps) ? raw.steps : [], ['pipelines', name, 'steps'])
      pipelines[name] = { name, ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
        steps, source: at }
    }
  }
  const names = { modules: [...firstModule.keys()], pipelines: [...firstPipeline.keys()] }
  return { modules, pipelines, names, refs: ctx.refs, viewUses: ctx.viewUses, diagnostics: ctx.diagnostics }
}

function declareModule(ctx: Declaring, file: LoadedFile, raw: Record<string, unknown>, i: number): ModuleDecl | undefined {
  const path = ['modules', i]
  const name = raw.name as string
  const dependsOn = Array.isArray(raw.dependsOn) ? raw.dependsOn.filter((d): d is string => typeof d === 'string') : []
  dependsOn.forEach((dep, j) => {
    const at = [...path, 'dependsOn', j]
    if (dep === name) {
      ctx.diagnostics.push(diagnosticAt(file.parsed, at, 'ERR_CONFIG_UNKNOWN_REFERENCE',
        `module '${name}' depends on itself`, `remove '${name}' from its dependsOn`))
    } else ctx.refs.push({ kind: 'module', name: dep, file, path: at })
  })
  if (typeof raw.type !== 'string') return undefined
  const type = lookupType(ctx, file, 'module', raw.type, [...path, 'type'])
  // A copy: defaults are filled into it, and YAML aliases make several modules share one parsed object.
  const config = structuredClone(raw.config ?? {})
  if (!type || !isRecord(config)) return undefined
  const refs = validateConfig(ctx, file, type, config, [...path, 'config'])
  if (!refs) return undefined
  if (!checkModuleConfig(ctx, file, raw.type, config, [...path, 'config'])) return undefined
  const source = locate(file.parsed, path)
  let inputs: ModuleInput[]
  let outside: ReturnType<typeof moduleInputs>['outside']
  try {
    ({ inputs, outside } = moduleInputs(type.definition, config, file.parsed.file, ctx.appDir))
  } catch (error) {
    ctx.diagnostics.push(diagnosticAt(file.parsed, [...path, 'config'], 'ERR_CONFIG_SCHEMA',
      `module type '${raw.type}' could not name the files this config reads: ${messageOf(error)}`, 'check the paths in this config'))
    return undefined
  }
  // A type may name files without marking them in its schema: what it reads on start must be the app's too.
  for (const { input, path: leading, escape } of outside) {
    const found = whereInConfig(config, dirname(file.parsed.file), input)
    const written = found?.written ?? input
    const shown = leading === input ? written : `${written}/${relative(input, leading)}`
    const { message, hint } = outsideMessage(shown, leading, escape, { dir: ctx.appDir, kind: 'app' })
    ctx.diagnostics.push(diagnosticAt(file.parsed, [...path, 'config', ...found?.at ?? []], 'ERR_CONFIG_PATH_OUTSIDE',
      `module type '${raw.type}' reads ${message}`, hint))
  }
  if (outside.length > 0) return undefined
  return {
    name, type: raw.type, ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    config, dependsOn, refs, source, ...(inputs.length > 0 ? { inputs } : {}),
  }
}


/** The module type's own `check` of a config its schema accepted; each problem located in the YAML. */
