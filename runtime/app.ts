// Loading an application: config file → validated config → engine ready to start. Shared by the CLI and tests.
import { resolve } from 'node:path'
import type { Logger } from '@islet/sdk'
import { loadConfig } from './config/load.ts'
import { ConfigError } from './config/diagnostics.ts'
import { dataDirOf } from './config/data-dir.ts'
import { createEngine, type Engine, type PhaseTimeouts } from './engine/engine.ts'
import type { EngineProcessView } from '@islet/sdk'
import { createBuiltinRegistry } from './builtins.ts'
import type { Registry } from './plugins/registry.ts'
import { retentionFromEnv } from './executions/retention-env.ts'

export interface OpenAppOptions {
  logger: Logger
  /** Defaults to ISLET_DATA_DIR, then `./data`. */
  dataDir?: string
  env?: Record<string, string | undefined>
  registry?: Registry
  timeouts?: Partial<PhaseTimeouts>
  /** `--frozen-lockfile` (LoadOptions.frozenLockfile). */
  frozenLockfile?: boolean
  /** Set in one of several engine processes (`islet run --processes`). */
  process?: EngineProcessView
}

/** Loads and validates `file` and builds (but does not start) its engine; throws ConfigError with every problem. */
export async function openApp(file: string, options: OpenAppOptions): Promise<Engine> {
  const env = options.env ?? process.env
  const registry = options.registry ?? createBuiltinRegistry()
  const dataDir = dataDirOf(options.dataDir, env)
  const loaded = await loadConfig(resolve(file), { registry, env, dataDir, frozenLockfile: options.frozenLockfile === true })
  for (const d of loaded.diagnostics) if (d.severity === 'warning') options.logger.warn({ diagnostic: d }, d.message)
  if (!loaded.config || !loaded.registry) throw new ConfigError(loaded.diagnostics)
  const plugins = (loaded.config.plugins ?? []).map((p) => `${p.name}@${p.version}`)
  if (plugins.length > 0) options.logger.info({ plugins }, `plugins loaded: ${plugins.join(', ')}`)
  // The registry the config was loaded with: the built-ins plus the app's `plugins:`.
  return createEngine({
    config: loaded.config, registry: loaded.registry, logger: options.logger, dataDir, timeouts: options.timeouts, env,
    executions: retentionFromEnv(env), ...(options.process ? { process: options.process } : {}),
  })
}
