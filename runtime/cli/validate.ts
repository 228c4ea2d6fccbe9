// `islet validate [files…]` (default ./app.yaml, as for run and dev): every problem of every file — the config, its module graph, and its components compiled
// (esbuild only: no sandbox starts) — as `path:line:col severity CODE message` lines or one JSON report.
import { resolve } from 'node:path'
import { dataDirOf } from '../config/data-dir.ts'
import { ComponentCompileError, checkComponent } from '../components/compile.ts'
import { ConfigError, formatDiagnostic, sortDiagnostics, toPublicDiagnostic, type Diagnostic } from '../config/diagnostics.ts'
import { loadConfig } from '../config/load.ts'
import type { AppConfig } from '../config/types.ts'
import { buildGraph } from '../engine/graph.ts'
import { codeOf, messageOf } from '../errors.ts'
import { createBuiltinRegistry } from '../builtins.ts'
import type { ParsedOptions } from './options.ts'

export default async function validate({ values, positionals: given }: ParsedOptions): Promise<number> {
  const positionals = given.length > 0 ? given : ['app.yaml']
  const registry = createBuiltinRegistry()
  const dataDir = dataDirOf(values['data-dir'] as string | undefined, process.env)
  const diagnostics: Diagnostic[] = []
  let compiled = 0
  for (const file of positionals) {
    const loaded = await loadConfig(resolve(file), { registry, env: process.env, dataDir, frozenLockfile: values['frozen-lockfile'] === true })
    diagnostics.push(...loaded.diagnostics)
    if (!loaded.config) continue
    diagnostics.push(...graphProblems(loaded.config))
    const found = await compileAll(loaded.config)
    compiled += found.compiled
    diagnostics.push(...found.diagnostics)
  }
  sortDiagnostics(diagnostics)
  const errors = diagnostics.filter((d) => d.severity === 'error').length
  if (values.format === 'json') {
    console.log(JSON.stringify({ valid: errors === 0, files: positionals, diagnostics: diagnostics.map(toPublicDiagnostic) }, null, 2))
  } else {
    for (const d of diagnostics) console.log(formatDiagnostic(d))
    const files = `${positionals.length} file${positionals.length === 1 ? '' : 's'}`
    const components = compiled ? `, ${compiled} component${compiled === 1 ? '' : 's'} compiled` : ''
    console.log(errors === 0 ? `${files} valid${components}` : `${errors} error${errors === 1 ? '' : 's'}`)
  }
  return errors === 0 ? 0 : 1
}

function graphProblems(config: AppConfig): readonly Diagnostic[] {
  try {
    buildGraph(config)
    return []
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics
    throw error
  }
}

/**
 * Compiles every component the config declares, as the engine would at start (syntax, imports, default export,
 * size caps), all at once; one unchanged since it last compiled is not compiled again (checkComponent). What only running shows (init, examples) is `islet component test`'s job.
 */
async function compileAll(config: AppConfig): Promise<{ compiled: number; diagnostics: Diagnostic[] }> {
  const results = await Promise.all(config.components.map(async (decl): Promise<readonly Diagnostic[]> => {
    try {
      await checkComponent(decl.file)
      return []
    } catch (error) {
      if (error instanceof ComponentCompileError) return error.diagnostics
      return [{ ...decl.source, severity: 'error', code: codeOf(error, 'ERR_COMPONENT_COMPILE') as Diagnostic['code'], path: '',
        message: `component '${decl.name}' could not be compiled: ${messageOf(error)}` }]
    }
  }))
  return { compiled: results.filter((r) => r.length === 0).length, diagnostics: results.flat() }
}
