// @islet/sdk: the one public entry for plugin and component authors. No Node APIs: it also runs inside isolates.
export type { LogFields, LogFn, Logger } from './logger.ts'
export {
  type JsonSchema, REF_KEYWORD, PATH_KEYWORD, EXPRESSION_PATTERN, moduleRef, pipelineRef, componentRef, appPath, dataPath,
  expressionOr, PROVIDES_KEYWORD, TRIGGER_KEYWORD,
} from './schema.ts'
export { isRecord } from './record.ts'
export { CodedError, messageOf, StepError, isStepError, isPermanentStatus, type CodedErrorOptions, type StepErrorOptions } from './errors.ts'
export { MAX_TIMER_MS } from './timers.ts'
export {
  defineModuleType, type ModuleType, type ModuleInstance, type ModuleContext, type InputsContext, type EngineView, type EngineProcessView,
  type EngineState,
} from './module.ts'
export {
  defineStepType, runOptionsWith, runOptionsNamed, type StepType, type StepRun, type StepContext, type RunScope, type Template,
  type ConfigProblem, type Pipeline, type HttpRunView, type RunInput, type PipelineResponse, type PipelineRunOptions, type AbortSignalLike,
  type Block, type BlockRunOptions, type BlockStepDecl,
} from './pipeline.ts'
export { definePlugin, type Plugin } from './plugin.ts'
export { defineFunction, type ExpressionFunction } from './expression.ts'
export {
  defineComponent, type ComponentDefinition, type ComponentContext, type ComponentLimits, type ComponentExample,
  type ComponentLogger, type ComponentCapabilities, type KvCapability, type KvEntry, type KvSetOptions, type FetchInit, type FetchResponse,
} from './component.ts'
export { defineContract, type Contract, type MemberKind } from './contract.ts'
export {
  SERVICE_NAMES, type Services, type ServiceName, type EventsService, type BusEvent, type ComponentsService,
  type InvokeOptions, type StatusService, type SlotsService, type SlotInfo, type SlotVersion, type SlotVersionStatus,
  type SlotLogEntry, type SlotInvokeResult, type DeployFiles, type DeployRequest, type DeployResult, type DeployStep,
  type AuditEntry, type AdminService, type AdminRequest, type AdminAnswer, type AdminHandler,
  type OutboundService, type OutboundInit, type OutboundResponse,
} from './services.ts'
export { defineTrigger, RUN_VARIABLES, type TriggerType } from './trigger.ts'
export {
  httpMiddleware, httpRouter, type HttpMiddleware, type HttpContext, type HttpRequestView, type HttpAnswer, type HttpSent,
  type MiddlewareProvider, type RouterProvider, type RouteMatch,
} from './http.ts'
export {
  httpAuthenticator, heldScopes, missingScopes, PRINCIPAL_LOCAL, ADMIN_SCOPE, ADMIN_READ_SCOPE, type Principal, type Authenticator,
} from './auth.ts'
export { DIAGNOSTIC_SCHEMA, type Diagnostic } from './diagnostic.ts'
export type {
  AppView, AppModule, AppStep, AppComponent, AppDeclaration, AppReference, AppProblem, SourcePosition,
} from './app-check.ts'
export type { RunObserver, StepStart, StepEnd } from './pipeline.ts'
export type {
  ExecutionsService, Execution, ExecutionSummary, ExecutionStatus, ExecutionStep, ExecutionEvent, ExecutionFilter, ExecutionStart,
} from './services.ts'
