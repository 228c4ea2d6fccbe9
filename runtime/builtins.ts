// The built-in plugins, as an explicit list: import order never changes behaviour.
import type { Plugin } from '@islet/sdk'
import core from '../plugins/core/index.ts'
import http from '../plugins/http/index.ts'
import storage from '../plugins/storage/index.ts'
import auth from '../plugins/auth/index.ts'
import flow from '../plugins/flow/index.ts'
import components from './components/plugin.ts'
import admin from './admin/plugin.ts'
import { createRegistry, type Registry, type RegistryOptions } from './plugins/registry.ts'

export const BUILTIN_PLUGINS: readonly Plugin[] = [core, http, storage, auth, components, admin, flow]

/** A fresh registry holding the built-in plugins. */
export function createBuiltinRegistry(options: RegistryOptions = {}): Registry {
  const registry = createRegistry(options)
  for (const plugin of BUILTIN_PLUGINS) registry.register(plugin)
  return registry
}
