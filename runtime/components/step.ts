// Step type `component`: calls a sandboxed component with an input built from expressions; its output is the
// step's output. Component errors become HTTP errors with their code (timeout 504, invalid input 400, …); a 4xx
// StepError the component threw (and the host accepted) answers with its own status and code.
import { componentRef, defineStepType, StepError } from '@islet/sdk'
import { IsletError, isIsletError, messageOf } from '../errors.ts'
import { ComponentClientError } from './client-error.ts'

const STATUS: Record<string, number> = {
  ERR_SANDBOX_TIMEOUT: 504,
  ERR_COMPONENT_INPUT_INVALID: 400,
  ERR_SANDBOX_INPUT_LIMIT: 413,
  ERR_COMPONENT_QUARANTINED: 503,
  // A deploy slot no version of which is live yet.
  ERR_SLOT_EMPTY: 503,
  // A kv write refused (and not caught by the component): the store is full for it, or it lost a race.
  ERR_CAPABILITY_QUOTA: 507,
  ERR_CAPABILITY_CONFLICT: 409,
  // Lost with a worker another component took down: the component did nothing wrong, and a retry may well succeed.
  ERR_SANDBOX_WORKER_LOST: 503,
  // The run was aborted (request timeout, client gone, shutdown): the HTTP layer answers with the abort's own error.
  ERR_SANDBOX_CANCELLED: 503,
}

export interface ComponentStepConfig {
  component: string
  input?: unknown
}

export default defineStepType<ComponentStepConfig>({
  type: 'component',
  description: 'Runs a sandboxed component; its output is this step\'s output.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['component'],
    properties: {
      component: componentRef('a component declared in the components section'),
      input: { description: "the input, built from expressions (default ${{ input }}: the run's input, an HTTP request's body)" },
    },
  },
  create(config, ctx) {
    const host = ctx.service('components')
    if (!host.has(config.component)) {
      throw new IsletError('ERR_COMPONENT_NOT_FOUND', `component '${config.component}' is not loaded`, { details: { component: config.component } })
    }
    const input = ctx.compile(config.input === undefined ? '${{ input }}' : config.input)
    return async (run) => {
      try {
        // The run's signal (request timeout, client gone) cancels the invocation inside the sandbox too.
        return await host.invoke(config.component, input(run), { signal: run.signal, logger: run.logger })
      } catch (error) {
        // The component's own 4xx StepError, already checked by the host (client-error.ts): its status and code.
        if (error instanceof ComponentClientError) {
          throw new StepError({
            status: error.status, code: error.code, message: error.message,
            ...(error.clientDetails !== undefined ? { details: error.clientDetails } : {}), cause: error,
          })
        }
        if (!isIsletError(error)) throw error
        // Messages from the component host are already caller-safe (no host paths, secrets redacted).
        const issues = (error.details as { issues?: unknown }).issues
        throw new StepError({
          status: STATUS[error.code] ?? 500, code: error.code, message: messageOf(error),
          ...(issues ? { details: issues } : {}), cause: error,
        })
      }
    }
  },
})
