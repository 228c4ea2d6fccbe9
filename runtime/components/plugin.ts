// The runtime's own plugin: the `component` step, which calls components through the `components` engine service.
// Declared through the sdk, like a third party's.
import { definePlugin } from '@islet/sdk'
import componentStep from './step.ts'
import { ENGINE_VERSION } from '../version.ts'

export default definePlugin({
  name: 'components',
  version: ENGINE_VERSION,
  description: 'Calls sandboxed TypeScript components from pipelines.',
  stepTypes: [componentStep],
  services: ['components'],
})
