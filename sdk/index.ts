// @islet/sdk: the one public entry for plugin and component authors. No Node APIs: it also runs inside isolates.
export type { LogFields, LogFn, Logger } from './logger.ts'
export {
  type JsonSchema, REF_KEYWORD, PATH_KEYWORD, EXPRESSION_PATTERN, moduleRef, pipelineRef, componentRef, appPath, dataPath,
  expressionOr,
} from './schema.ts'
export { CodedError, messageOf, StepError, isStepError, type CodedErrorOptions, type StepErrorOptions } from './errors.ts'
export {
  defineModuleType, type ModuleType, type ModuleInstance, type ModuleContext, type InputsContext, type EngineView,
  type EngineState,
} from './module.ts'
export {
  defineStepType, type StepType, type StepRun, type StepContext, type RunScope, type Template,
  type ConfigProblem, type Pipeline, type PipelineRequest, type PipelineResponse, type PipelineRunOptions, type AbortSignalLike,
} from './pipeline.ts'
export { definePlugin, type Plugin } from './plugin.ts'
export {
  defineComponent, type ComponentDefinition, type ComponentContext, type ComponentLimits, type ComponentExample,
  type ComponentLogger, type KvCapability, type KvEntry, type KvSetOptions, type FetchInit, type FetchResponse,
} from './component.ts'
export { DIAGNOSTIC_SCHEMA, type Diagnostic } from './diagnostic.ts'
