// Compiles a pipeline declaration once per config generation: creates each step through its step type.
import { dirname } from 'node:path'
import { confinedResolver } from '../config/confine.ts'
import type { Block, Contract, Logger, Pipeline, Plugin, ServiceName, Services, StepContext, StepRun } from '@islet/sdk'
import type { PipelineDecl, StepBranch, StepCall, StepDecl } from '../config/types.ts'
import { IsletError, messageOf } from '../errors.ts'
import type { Registry } from '../plugins/registry.ts'
import { createRun, type Op, type TriggerViews } from './run.ts'
import { languageOf, withBlockVariables, type Language } from '../expressions/language.ts'
import { createBlock } from './block.ts'
import { compileTemplate } from '../expressions/template.ts'
import { withDeadline } from '../deadline.ts'

/** A step asking for engine services: for the declaration check, the source of its events and refusal messages. */
export interface StepCaller {
  who: string
  /** `step:<pipeline>/<step>` */
  source: string
  plugin: Plugin
}

/** What compiling a pipeline needs from the engine. */
export interface PipelineCompileContext {
  registry: Registry
  /** The engine logger; each step gets a child carrying `{ pipeline, step }`. */
  logger: Logger
  dataDir: string
  /**
   * A started module by name as `contract` (refused when its type does not provide it; `asker` names the step in
   * that refusal). Steps reach only the modules their config references.
   */
  module<T extends object>(name: string, contract: Contract<T>, asker: string): T
  /**
   * `ctx.service` of one step: the engine services its plugin declared, their subscriptions scoped to this compiled
   * pipeline (engine/services.ts). Absent outside an engine.
   */
  services?(step: StepCaller): <K extends ServiceName>(name: K) => Services[K]
  /**
   * The deadline of each step type's `create`: one that has not finished by then fails the pipeline with
   * ERR_PIPELINE_STEP_CREATE_TIMEOUT naming the step (a hung step factory must not hang startup). None if absent.
   */
  stepCreateMs?: number
  /** The app folder (the root YAML's): `ctx.resolvePath` refuses paths outside it. */
  appDir?: string
  /**
   * Another pipeline of the same generation, compiled on first use (a step's `ctx.pipelineNamed`, e.g. `call`). Absent
   * outside an engine.
   */
  pipeline?(name: string): Promise<Pipeline>
}

/**
 * Creates every step of `decl` (in order, branches included) and returns the runnable pipeline.
 * Throws ERR_PIPELINE_STEP_CREATE_FAILED naming the pipeline, the step and where it is declared.
 */
export async function compilePipeline(decl: PipelineDecl, ctx: PipelineCompileContext): Promise<Pipeline> {
  const ops: Op[] = []
  const baseDir = dirname(decl.source.file)
  // What this generation's expressions may name: the registered triggers' variables and the plugins' functions.
  const language = languageOf(ctx.registry)
  const views = triggerViews(ctx.registry)

  /** Appends `steps` to `ops`: steps as they are, branches as jumps; block steps get their blocks compiled first. */
  async function emit(steps: readonly StepDecl[], ops: Op[], language: Language): Promise<void> {
    for (const step of steps) {
      if (step.kind === 'step') {
        ops.push({ kind: 'step', name: step.name, run: await createStep(step, language), condition: null, target: -1 })
        continue
      }
      const branch: Op = { kind: 'branch', name: step.name, run: null, condition: compileCondition(step, language), target: -1 }
      ops.push(branch)
      await emit(step.then, ops, language)
      if (step.else.length === 0) {
        branch.target = ops.length
        continue
      }
      const skipElse: Op = { kind: 'jump', name: step.name, run: null, condition: null, target: -1 }
      ops.push(skipElse)
      branch.target = ops.length
      await emit(step.else, ops, language)
      skipElse.target = ops.length
    }
  }

  /** A block's steps as ops of their own, run through the same loop as the pipeline's. */
  async function compileBlock(owner: string, steps: readonly StepDecl[], language: Language): Promise<Block> {
    const blockOps: Op[] = []
    await emit(steps, blockOps, language)
    for (const op of blockOps) Object.freeze(op)
    return createBlock(decl.name, owner, blockOps, createRun(decl.name, blockOps, views))
  }

  function where(step: StepDecl): string {
    return `${step.source.file}:${step.source.line}:${step.source.col}`
  }

  function failed(step: StepDecl, type: string, error: unknown): IsletError {
    return new IsletError('ERR_PIPELINE_STEP_CREATE_FAILED',
      `pipeline '${decl.name}' step '${step.name}' (${type}) at ${where(step)} could not be created: ${messageOf(error)}`,
      { cause: error, details: { pipeline: decl.name, step: step.name, type, ...step.source } })
  }

  function compileCondition(branch: StepBranch, language: Language) {
    try {
      return compileTemplate(branch.condition, language)
    } catch (error) {
      throw failed(branch, 'if', error)
    }
  }

  async function createStep(step: StepCall, outer: Language): Promise<StepRun> {
    const registered = ctx.registry.stepType(step.type)
    if (!registered) {
      const provider = ctx.registry.knownProvider(step.type)
      throw new IsletError('ERR_CONFIG_UNKNOWN_STEP_TYPE',
        `pipeline '${decl.name}' step '${step.name}' at ${where(step)} has type '${step.type}', which no registered plugin provides` +
        (provider ? ` (install the '${provider}' plugin)` : ''),
        { details: { pipeline: decl.name, step: step.name, type: step.type, ...step.source } })
    }
    // A block's expressions also see the variables its step type declares (foreach: item, index).
    const inner = withBlockVariables(outer, registered.definition.blockVariables)
    const blocks = step.branches === undefined ? undefined : Object.fromEntries(await Promise.all(
      Object.entries(step.branches).map(async ([name, steps]) => [name, await compileBlock(step.name, steps, inner)] as const)))
    const block = step.block === undefined ? undefined : await compileBlock(step.name, step.block, inner)
    const stepCtx = stepContext(step, registered.plugin, outer, block, blocks && Object.freeze(blocks))
    const creating = Promise.resolve()
      .then(() => registered.definition.create(step.config, stepCtx))
      .catch((error: unknown) => { throw failed(step, step.type, error) })
    const ms = ctx.stepCreateMs
    const run: unknown = ms === undefined ? await creating : await withDeadline(() => creating, {
      ms, code: 'ERR_PIPELINE_STEP_CREATE_TIMEOUT',
      message: `pipeline '${decl.name}' step '${step.name}' (${step.type}) at ${where(step)} was not created within ${ms} ms: ` +
        `its step type's create() did not finish`,
      details: { pipeline: decl.name, step: step.name, type: step.type, ...step.source },
    })
    if (typeof run !== 'function') throw failed(step, step.type, new Error(`create() returned ${typeof run}, not a function`))
    return run as StepRun
  }

  function stepContext(step: StepCall, plugin: Plugin, language: Language, block: Block | undefined,
    blocks: Readonly<Record<string, Block>> | undefined): StepContext {
    const allowed = new Set(step.refs.modules)
    const pipelines = new Set(step.refs.pipelines)
    const who = `step '${step.name}' (${step.type}) of pipeline '${decl.name}'`
    const services = ctx.services?.({ who, source: `step:${decl.name}/${step.name}`, plugin })
    return {
      pipeline: decl.name,
      step: step.name,
      logger: ctx.logger.child({ pipeline: decl.name, step: step.name }),
      dataDir: ctx.dataDir,
      resolvePath: confinedResolver(baseDir, ctx.appDir),
      module<T extends object>(name: string, contract: Contract<T>): T {
        if (!allowed.has(name)) {
          const refs = allowed.size ? `it references ${[...allowed].map((m) => `'${m}'`).join(', ')}` : 'it references none'
          throw new IsletError('ERR_MODULE_NOT_ACCESSIBLE',
            `step '${step.name}' of pipeline '${decl.name}' may not use module '${name}': its config does not reference it (${refs})`,
            { details: { pipeline: decl.name, step: step.name, module: name, refs: [...allowed] } })
        }
        return ctx.module(name, contract, who)
      },
      service<K extends ServiceName>(name: K): Services[K] {
        if (!services) throw new IsletError('ERR_ENGINE_STATE', `${who} asked for the '${name}' service, but engine services exist only inside an engine`)
        return services(name)
      },
      compile: <T>(value: unknown) => compileTemplate<T>(value, language),
      ...(block ? { block } : {}),
      ...(blocks ? { blocks } : {}),
      pipelineNamed(name: string): Pipeline {
        if (!pipelines.has(name)) {
          throw new IsletError('ERR_PIPELINE_PIPELINE_NOT_ACCESSIBLE',
            `step '${step.name}' of pipeline '${decl.name}' may not run pipeline '${name}': its config does not reference it through a pipelineRef`,
            { details: { pipeline: decl.name, step: step.name, requested: name } })
        }
        return lazyPipeline(name, who)
      },
    } satisfies StepContext
  }

  /** `name`, compiled when first run: a pipeline may call itself, or one that calls it back, without a compile cycle. */
  function lazyPipeline(name: string, who: string): Pipeline {
    let compiled: Promise<Pipeline> | undefined
    return Object.freeze({
      name,
      run(input, options) {
        if (!ctx.pipeline) throw new IsletError('ERR_ENGINE_STATE', `${who} runs pipeline '${name}', but pipelines reach each other only inside an engine`)
        compiled ??= ctx.pipeline(name)
        return compiled.then((p) => p.run(input, options))
      },
    } satisfies Pipeline)
  }

  await emit(decl.steps, ops, language)
  for (const op of ops) Object.freeze(op)
  return Object.freeze({ name: decl.name, run: createRun(decl.name, ops, views) })
}

/** Each trigger's declared view variables, looked up once per trigger name (a run checks its view against them). */
function triggerViews(registry: Registry): TriggerViews {
  const known = new Map<string, ReadonlySet<string> | undefined>()
  return (trigger) => {
    if (known.has(trigger)) return known.get(trigger)
    const type = registry.triggerType(trigger)?.definition
    const declared = type ? new Set(type.variables ?? []) : undefined
    known.set(trigger, declared)
    return declared
  }
}
