// The built-in `core` plugin: the step types every pipeline uses, declared through the public sdk only.
import { definePlugin } from '@islet/sdk'
import fail from './fail.ts'
import log from './log.ts'
import respond from './respond.ts'
import set from './set.ts'
import validate from './validate.ts'

export type { FailConfig } from './fail.ts'
export type { LogConfig } from './log.ts'
export type { RespondConfig } from './respond.ts'
export type { SetConfig } from './set.ts'
export type { ValidateConfig, ValidationProblem } from './validate.ts'

export default definePlugin({
  name: 'core',
  version: '0.1.0',
  islet: '^0.1.0',
  description: 'Core pipeline steps: validate, set, log, respond, fail.',
  stepTypes: [validate, set, log, respond, fail],
})
