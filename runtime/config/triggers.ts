// Pipelines against the triggers that run them: an expression may read a trigger's own variable (`body`, `params`, …)
// only when every trigger that runs its pipeline has it. Which triggers run a pipeline comes from the `pipelineRef`s
// naming it (`pipelineRef(…, { trigger })`, e.g. the http router's routes); a pipeline no such reference names may
// read any registered trigger's variables, as nothing says which run it.
import { RUN_VARIABLES } from '@islet/sdk'
import type { Registry } from '../plugins/registry.ts'
import type { RefSite, ViewUse } from './configs.ts'
import type { Diagnostic } from './diagnostics.ts'
import { diagnosticAt, locate } from './locate.ts'
import { where } from './declare.ts'

/** One diagnostic per expression variable a trigger running its pipeline lacks, and per reference to an unknown trigger. */
export function checkTriggerVariables(refs: readonly RefSite[], uses: readonly ViewUse[], registry: Registry): Diagnostic[] {
  const diagnostics: Diagnostic[] = []
  const byPipeline = new Map<string, ViewUse[]>()
  for (const use of uses) {
    const list = byPipeline.get(use.pipeline)
    if (list) list.push(use)
    else byPipeline.set(use.pipeline, [use])
  }
  const reported = new Set<string>()
  for (const ref of refs) {
    if (ref.kind !== 'pipeline' || ref.trigger === undefined) continue
    const trigger = registry.triggerType(ref.trigger)?.definition
    if (!trigger) {
      const known = registry.triggerTypes().map((t) => t.definition.name)
      diagnostics.push(diagnosticAt(ref.file.parsed, ref.path, 'ERR_PLUGIN_INVALID',
        `this module runs pipeline '${ref.name}' for trigger '${ref.trigger}', which no registered plugin declares`,
        `register the plugin that declares the '${ref.trigger}' trigger type (registered: ${known.join(', ') || 'none'})`))
      continue
    }
    const has = new Set(trigger.variables ?? [])
    const by = `${where(ref.file, locate(ref.file.parsed, ref.path))}`
    for (const use of byPipeline.get(ref.name) ?? []) {
      if (has.has(use.name)) continue
      const key = `${use.at.file}:${use.at.line}:${use.at.col}\0${trigger.name}`
      if (reported.has(key)) continue
      reported.add(key)
      const adds = has.size ? `; trigger '${trigger.name}' adds ${[...has].join(', ')}` : ''
      diagnostics.push({
        ...use.at, severity: 'error', code: 'ERR_CONFIG_TRIGGER_VARIABLE', path: use.path,
        message: `pipeline '${ref.name}' reads '${use.name}', but trigger '${trigger.name}' runs it (at ${by}) and its runs have no '${use.name}'`,
        hint: use.name === 'body'
          ? `use \${{ input }}: every run's main value (an HTTP body, an event's payload), whichever trigger starts it`
          : `every run has ${RUN_VARIABLES.join(', ')}${adds}`,
      })
    }
  }
  return diagnostics
}

/**
 * An unknown variable's hint lists the variables of every registered trigger: expressions are compiled before it is
 * known which triggers run their pipeline. Where modules say so (their `pipelineRef`s), narrow it to the variables
 * every run of that pipeline has, so a pipeline run on a schedule is not told it may read `body`.
 */
export function narrowVariableHints(diagnostics: Diagnostic[], refs: readonly RefSite[], registry: Registry): void {
  const triggers = new Map<string, Set<string>>()
  for (const ref of refs) {
    if (ref.kind !== 'pipeline' || ref.trigger === undefined) continue
    triggers.set(ref.name, (triggers.get(ref.name) ?? new Set()).add(ref.trigger))
  }
  for (const d of diagnostics) {
    if (d.code !== 'ERR_CONFIG_EXPRESSION' || !d.hint?.startsWith('the variables are ') || !d.path.startsWith('pipelines.')) continue
    const by = triggers.get(d.path.split('.')[1]!)
    const declared = by && [...by].map((t) => registry.triggerType(t)?.definition.variables ?? [])
    if (!by || !declared || [...by].some((t) => !registry.triggerType(t))) continue
    const shared = declared.reduce((all, vs) => all.filter((v) => vs.includes(v)))
    d.hint = `the runs of ${by.size > 1 ? 'triggers' : 'trigger'} ${[...by].join(', ')} have ${[...RUN_VARIABLES, ...shared].join(', ')}`
  }
}
