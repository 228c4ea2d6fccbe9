// The runtime's admin plugin: the `islet.admin` module type, declared through the sdk like any other.
import { definePlugin } from '@islet/sdk'
import admin from './module.ts'
import { ENGINE_VERSION } from '../version.ts'

export default definePlugin({
  name: 'admin',
  version: ENGINE_VERSION,
  description: 'Status and reload events over HTTP, for token holders (and loopback clients of a loopback server).',
  moduleTypes: [admin],
  services: ['status', 'events', 'slots', 'admin', 'executions'],
})
