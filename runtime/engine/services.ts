// Engine services that the runtime's own step types reach (the component host, the event bus). Third-party
// plugins cannot: the handle sits under a symbol only runtime code imports.
import type { ComponentHost } from '../components/host.ts'
import type { EventBus } from '../events/bus.ts'
import type { AdminSource } from '../admin/module.ts'
import { IsletError } from '../errors.ts'

export const SERVICES: unique symbol = Symbol('islet.engine-services')

export interface EngineServices {
  events: EventBus
  components?: ComponentHost
  /** Status and reload events, for the admin API. */
  admin?: AdminSource
}

export function servicesOf(ctx: object): EngineServices {
  const services = (ctx as { [SERVICES]?: EngineServices })[SERVICES]
  if (!services) throw new IsletError('ERR_ENGINE_STATE', 'this step type needs the engine services; it is only usable inside an engine')
  return services
}
