// Builds the context a module type's `create` receives: its identity, logger, paths, the engine services its plugin
// declared, and access limited to what it depends on — as the contracts their types provide.
import { dirname } from 'node:path'
import { confinedResolver } from '../config/confine.ts'
import type { Contract, EngineView, Logger, ModuleContext, Pipeline, Template } from '@islet/sdk'
import type { ModuleDecl } from '../config/types.ts'
import { IsletError } from '../errors.ts'
import { asContract, requireContract, type ModuleHandle } from './contracts.ts'
import type { ServiceLookup } from './services.ts'

export interface ModuleContextDeps {
  logger: Logger
  dataDir: string
  engine: EngineView
  dependencies: ReadonlySet<string>
  pipelines: ReadonlyMap<string, Pipeline>
  /** A module of this module's generation, with what its type provides. */
  lookup(name: string): ModuleHandle | undefined
  /** The module this one replaces on a config reload (see ModuleContext.previous). */
  previous?: ModuleHandle
  /** `ctx.service`: the services its plugin declared (engine/services.ts). */
  service: ServiceLookup
  /** The app folder (the root YAML's): `ctx.resolvePath` refuses paths outside it. */
  appDir?: string
  /** `ctx.compile`: the generation's expression language (its registry's triggers and functions). */
  compile<T>(value: unknown): Template<T>
}

export function createModuleContext(decl: ModuleDecl, deps: ModuleContextDeps): ModuleContext {
  const baseDir = dirname(decl.source.file)
  const asker = `module '${decl.name}' (${decl.type})`
  return {
    name: decl.name,
    type: decl.type,
    logger: deps.logger,
    dataDir: deps.dataDir,
    engine: deps.engine,
    resolvePath: confinedResolver(baseDir, deps.appDir),
    module<T extends object>(name: string, contract: Contract<T>): T {
      requireContract(asker, `ctx.module('${name}')`, contract)
      const target = deps.dependencies.has(name) ? deps.lookup(name) : undefined
      if (!target) {
        throw new IsletError('ERR_MODULE_NOT_ACCESSIBLE',
          `module '${decl.name}' asked for module '${name}', which is not among its dependencies`,
          { details: { module: decl.name, requested: name, dependencies: [...deps.dependencies] } })
      }
      return asContract(asker, target, contract)
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
    service: deps.service,
    previous<T extends object>(contract: Contract<T>): T | undefined {
      requireContract(asker, 'ctx.previous()', contract)
      const previous = deps.previous
      // Another type's instance (or an older plugin's) hands over only through a contract both declare.
      return previous && previous.provides.some((c) => c.name === contract.name) ? previous.instance as T : undefined
    },
    compile: deps.compile,
  }
}
