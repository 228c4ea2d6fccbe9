// A registry plugin's host code: module, step and trigger types that run in the engine process with its rights.
// It loads only when the app's entry says `host: true`, with no engine service beyond those the entry lists, and
// the module must declare the package it came in (name and version); then it registers like any plugin.
import { join, relative } from 'node:path'
import type { Plugin } from '@islet/sdk'
import type { PluginPackageJson } from '../../registry/manifest.ts'
import { isIsletError, messageOf, type ErrorCode } from '../errors.ts'
import { importPlugin } from '../plugins/import-plugin.ts'
import type { Registry } from '../plugins/registry.ts'
import type { PluginRequest } from './plugin-requests.ts'

export interface HostRefusal {
  code: ErrorCode
  message: string
  hint: string
}

/**
 * Checks what the app allows, imports the host module and registers it into `registry`. `request` is the app's
 * entry for the plugin (undefined for a plugin another one pulled in: no host code allowed).
 */
export async function loadHostCode(pkg: PluginPackageJson, dir: string, host: string, request: PluginRequest | undefined,
  registry: Registry, appDir: string): Promise<HostRefusal | undefined> {
  const { name, version, islet } = pkg
  const id = `${name}@${version}`
  const services = [...(islet.services ?? [])]
  const allowed = request?.services ?? []
  if (!request?.host) {
    const entry = `'${name}': { version: ${request?.range ?? version}, host: true${services.length ? `, services: [${services.join(', ')}]` : ''} }`
    return { code: 'ERR_PLUGIN_HOST_NOT_ALLOWED',
      message: `${id} ships host code (${host}): it would run in the engine process with its rights` +
        `${services.length ? `, using the engine services ${services.join(', ')}` : ''}; its plugins: entry does not allow host code`,
      // Not "use its components only": the package loads whole or not at all, so there is no such middle way.
      hint: `review ${relative(appDir, join(dir, host)) || host} and, if you trust it, write ${entry}; if not, remove ${name} from plugins: (a package with host code is loaded whole or not at all: its components too)` }
  }
  const beyond = services.filter((s) => !allowed.includes(s))
  if (beyond.length > 0) {
    return { code: 'ERR_PLUGIN_SERVICES_NOT_ALLOWED',
      message: `${id} uses the engine services ${beyond.join(', ')}, beyond those its entry allows (${allowed.join(', ') || 'none'})`,
      hint: `add services: [${[...allowed, ...beyond].join(', ')}] to its plugins: entry if you accept that, or remove the plugin` }
  }
  let exported: unknown
  try {
    exported = await importPlugin(join(dir, host))
  } catch (error) {
    return { code: 'ERR_PLUGIN_LOAD_FAILED', message: `${id}: its host module ${messageOf(error)}`,
      hint: `the package's code is at fault: pin another version of ${name}, or report it to its author` }
  }
  const plugin = exported as Partial<Plugin> | undefined
  if (!plugin || plugin.name !== name || plugin.version !== version) {
    return { code: 'ERR_PLUGIN_INVALID',
      message: `${id}: its host module exports ${plugin?.name ? `plugin ${plugin.name}@${plugin.version}` : 'no definePlugin(…) object'}, not ${id}`,
      hint: "a package's definePlugin(…) must carry its package.json name and version: report it to its author" }
  }
  // The manifest is what the app reviewed; the module must not ask for more than it says.
  const undeclared = (plugin.services ?? []).filter((s) => !services.includes(s))
  if (undeclared.length > 0) {
    return { code: 'ERR_PLUGIN_SERVICES_NOT_ALLOWED',
      message: `${id}: its host code asks for the engine services ${undeclared.join(', ')}, which its package.json islet.services does not list`,
      hint: 'the package is inconsistent: pin another version, or report it to its author' }
  }
  if (registry.plugins().some((p) => p.name === name)) {
    return { code: 'ERR_CONFIG_DUPLICATE_PLUGIN', message: `plugin '${name}' is loaded twice: by the plugins: list or a built-in, and by the map`,
      hint: 'list each plugin once' }
  }
  try {
    registry.register(plugin as Plugin)
  } catch (error) {
    return { code: isIsletError(error) ? error.code : 'ERR_PLUGIN_INVALID', message: messageOf(error),
      hint: "the package's definePlugin(…) declaration is at fault: pin another version, or report it to its author" }
  }
  return undefined
}
