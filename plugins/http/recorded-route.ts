// A route with `execution:` runs its pipeline as a recorded execution (the `executions` engine service). `async`: the
// run goes on in the background, with its own signal (the request ending does not cancel it), and the request is
// answered 202 at once with the execution's id and links; `record`: the request waits as for any route and its
// signal still aborts the run (client gone, timeout), the record is kept beside the answer.
import type { ExecutionsService, Pipeline, PipelineResponse } from '@islet/sdk'
import type { ExecutionsRouter } from './executions.ts'

export type ExecutionMode = 'async' | 'record'

export function recordedPipeline(pipeline: Pipeline, mode: ExecutionMode, executions: ExecutionsService, links: ExecutionsRouter | undefined): Pipeline {
  if (mode === 'record') {
    return {
      name: pipeline.name,
      async run(input, options) {
        const { id, done } = executions.start(pipeline, input, { logger: options.logger, ...(options.signal ? { signal: options.signal } : {}) })
        const response = await done
        return { ...response, headers: { ...response.headers, 'X-Execution-Id': id } }
      },
    }
  }
  return {
    name: pipeline.name,
    run(input, options) {
      const { id } = executions.start(pipeline, input, { logger: options.logger })
      const where = links?.links(id)
      const response: PipelineResponse = {
        status: 202,
        headers: { 'X-Execution-Id': id, ...(where ? { Location: where.self } : {}) },
        body: { execution: id, status: 'running', links: where ?? {} },
      }
      return Promise.resolve(response)
    },
  }
}
