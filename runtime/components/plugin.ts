// The runtime's own plugin: step types that need engine services (the component host). Declared through the sdk.
import { definePlugin } from '@islet/sdk'
import componentStep from './step.ts'
import { ENGINE_VERSION } from '../version.ts'

export default definePlugin({
  name: 'components',
  version: ENGINE_VERSION,
  description: 'Calls sandboxed TypeScript components from pipelines.',
  stepTypes: [componentStep],
})
