// Builds the context a module type's `create` receives: its identity, logger, paths, and access limited to what
// it depends on.
import { dirname } from 'node:path'
import { confinedResolver } from '../config/confine.ts'
import type { EngineView, Logger, ModuleContext, Pipeline } from '@islet/sdk'
import type { ModuleDecl } from '../config/types.ts'
import { IsletError } from '../errors.ts'
import { SERVICES, type EngineServices } from './services.ts'

export interface ModuleContextDeps {
  logger: Logger
  dataDir: string
  engine: EngineView
  dependencies: ReadonlySet<string>
  pipelines: ReadonlyMap<string, Pipeline>
  instance(name: string): object | undefined
  /** The instance this module replaces on a config reload (see ModuleContext.previous). */
  previous?: object
  /** Engine services for the runtime's own module types (see services.ts). */
  services?: EngineServices
  /** The app folder (the root YAML's): `ctx.resolvePath` refuses paths outside it. */
  appDir?: string
}

export function createModuleContext(decl: ModuleDecl, deps: ModuleContextDeps): ModuleContext {
  const baseDir = dirname(decl.source.file)
  const ctx: ModuleContext = {
    name: decl.name,
    type: decl.type,
    logger: deps.logger,
    dataDir: deps.dataDir,
    engine: deps.engine,
    previous: deps.previous,
    resolvePath: confinedResolver(baseDir, deps.appDir),
    module<T extends object>(name: string): T {
      const instance = deps.dependencies.has(name) ? deps.instance(name) : undefined
      if (!instance) {
        throw new IsletError('ERR_MODULE_NOT_ACCESSIBLE',
          `module '${decl.name}' asked for module '${name}', which is not among its dependencies`,
          { details: { module: decl.name, requested: name, dependencies: [...deps.dependencies] } })
      }
      return instance as T
    },
    pipeline(name: string): Pipeline {
      const pipeline = deps.pipelines.get(name)
      if (!pipeline) {
        throw new IsletError('ERR_MODULE_NOT_ACCESSIBLE',
          `module '${decl.name}' asked for pipeline '${name}', which its config does not reference`,
          { details: { module: decl.name, requested: name } })
      }
      return pipeline
    },
  }
  // Engine services sit under a private symbol, not enumerable: only runtime module types look for them.
  return deps.services ? Object.defineProperty(ctx, SERVICES, { value: deps.services }) : ctx
}
