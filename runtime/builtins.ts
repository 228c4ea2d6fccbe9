// The built-in plugins, as an explicit list: import order never changes behaviour.
import type { Plugin } from '@islet/sdk'
import core from '../plugins/core/index.ts'
import http from '../plugins/http/index.ts'
import storage from '../plugins/storage/index.ts'
import auth from '../plugins/auth/index.ts'
import queue from '../plugins/queue/index.ts'
import state from '../plugins/state/index.ts'
import events from '../plugins/events/index.ts'
import schedule from '../plugins/schedule/index.ts'
import flow from '../plugins/flow/index.ts'
import components from './components/plugin.ts'
import admin from './admin/plugin.ts'
import { createRegistry, type Registry, type RegistryOptions } from './plugins/registry.ts'

export const BUILTIN_PLUGINS: readonly Plugin[] = [core, http, storage, auth, flow, queue, state, events, schedule, components, admin]

/** A fresh registry holding the built-in plugins. */
export function createBuiltinRegistry(options: RegistryOptions = {}): Registry {
  const registry = createRegistry(options)
  for (const plugin of BUILTIN_PLUGINS) registry.register(plugin)
  return registry
}
