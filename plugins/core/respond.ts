// The `respond` step: ends the pipeline with a response built from templates.
import { defineStepType, type PipelineResponse } from '@islet/sdk'
import { asText, checkStatus, statusSchema } from './values.ts'
import { CoreError } from './errors.ts'

export interface RespondConfig {
  readonly status?: number | string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: unknown
}

// A header value from request data must not be able to start a new header line.
const LINE_BREAK = /[\r\n\0]/

/**
 * @example
 * - type: respond
 *   config: { status: 201, headers: { location: '/orders/${{ steps.order.id }}' }, body: '${{ steps.order }}' }
 */
export default defineStepType<RespondConfig>({
  type: 'respond',
  description: 'Ends the pipeline with this response (status, headers, body). Outputs the response.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      status: statusSchema(100, 599, 200, 'the HTTP status, or an expression yielding one'),
      headers: {
        type: 'object',
        description: 'response headers; values may hold ${{ … }} expressions (a null or missing value omits the header)',
        propertyNames: { pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
        additionalProperties: { type: 'string' },
      },
      body: { description: 'the response body: any value; strings may hold ${{ … }} expressions' },
    },
  },
  create(config, ctx) {
    const status = ctx.compile(config.status ?? 200)
    const names = Object.keys(config.headers ?? {})
    const values = names.map((name) => ctx.compile(config.headers![name]))
    const body = ctx.compile(config.body)
    return (scope) => {
      const headers: Record<string, string> = {}
      for (let i = 0; i < names.length; i++) {
        const value = values[i]!(scope)
        if (value === null || value === undefined) continue
        const text = asText(value)
        if (LINE_BREAK.test(text)) throw new CoreError('ERR_CORE_HEADER_INVALID', `header '${names[i]}' would contain a line break`, { details: { header: names[i] } })
        headers[names[i]!] = text
      }
      const response: PipelineResponse = { status: checkStatus(status(scope), 100, 599), headers, body: body(scope) }
      scope.respond(response)
      return response
    }
  },
})
