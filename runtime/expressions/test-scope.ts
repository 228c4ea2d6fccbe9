// Test-only: hand-made run scopes and error catchers shared by the expression, template and pipeline tests.
import type { RunScope } from '@islet/sdk'
import { isIsletError, type ErrorCode, type IsletError } from '../errors.ts'
import httpTrigger from '../../plugins/http/trigger.ts'
import { compileExpression } from './expression.ts'
import { NO_FUNCTIONS, type FunctionTable } from './expression-plugins.ts'
import { variablesOf } from './variables.ts'

/** The variables of the HTTP trigger, which most expression tests read. */
export const HTTP_VARIABLES = variablesOf([httpTrigger])
/** What HTTP pipelines' expressions may name, with no plugin functions. */
export const HTTP_LANGUAGE = { variables: HTTP_VARIABLES, functions: NO_FUNCTIONS }

export interface ScopeInput {
  body?: unknown
  params?: Record<string, string>
  query?: Record<string, string | string[]>
  headers?: Record<string, string>
  steps?: Record<string, unknown>
  locals?: Record<string, unknown>
}

/** A RunScope of an HTTP run built from `input`; logger and signal are not for expressions to touch. */
export function scopeOf(input: ScopeInput = {}): RunScope {
  const request = { id: 'req-1', method: 'POST', path: '/orders/7' }
  return {
    trigger: 'http', id: request.id, input: input.body, meta: { method: request.method, path: request.path },
    locals: input.locals ?? {},
    view: { body: input.body, params: input.params ?? {}, query: input.query ?? {}, headers: input.headers ?? {}, request },
    steps: Object.assign(Object.create(null), input.steps),
    logger: undefined as never,
    signal: undefined as never,
    respond() {},
  }
}

export const evaluate = (source: string, input: ScopeInput = {}, functions: FunctionTable = NO_FUNCTIONS): unknown =>
  compileExpression(source, { variables: HTTP_VARIABLES, functions })(scopeOf(input))

/** The IsletError with `code` that `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown, code: ErrorCode): IsletError {
  try {
    fn()
  } catch (error) {
    if (isIsletError(error, code)) return error
    throw error
  }
  throw new Error(`expected ${code}, nothing was thrown`)
}

export const compileError = (source: string, functions: FunctionTable = NO_FUNCTIONS): IsletError =>
  errorOf(() => compileExpression(source, { variables: HTTP_VARIABLES, functions }), 'ERR_CONFIG_EXPRESSION')
export const evalError = (source: string, input: ScopeInput = {}, functions: FunctionTable = NO_FUNCTIONS): IsletError =>
  errorOf(() => evaluate(source, input, functions), 'ERR_EXPRESSION_EVAL')

/** Resolves with what `promise` rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection, the promise resolved')
}
