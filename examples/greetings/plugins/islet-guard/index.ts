// @acme/islet-guard: a plugin outside the built-in list, written against @islet/sdk alone, loaded through the app's
// `plugins:`. It needs one engine service, the event bus, and says so.
import { definePlugin } from '@islet/sdk'
import { apiKeys } from './api-keys.ts'
import { tally, tallyRead } from './tally.ts'

export default definePlugin({
  name: '@acme/islet-guard',
  version: '1.0.0',
  islet: '^0.1.0',
  services: ['events'],
  moduleTypes: [apiKeys, tally],
  stepTypes: [tallyRead],
})
