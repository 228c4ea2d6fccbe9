// Engine services for plugins: what `ctx.service(name)` hands a module or a step — only the services its plugin lists
// in `definePlugin({ services })`, built-ins and third parties alike. Each module, and each compiled pipeline's
// steps, get one scope: the bus subscriptions made through it end together, when the module stops (also when a
// reload replaces it, or it fails to create or start) or when the generation that compiled the pipeline is disposed.
import {
  SERVICE_NAMES, type AbortSignalLike, type AdminService, type ComponentsService, type EventsService, type ExecutionsService, type Logger,
  type OutboundService, type Plugin, type ServiceName, type Services, type SlotsService, type StatusService,
} from '@islet/sdk'
import { IsletError } from '../errors.ts'
import type { EventBus } from '../events/bus.ts'
import type { AdminAreas } from './admin-areas.ts'

/** What the engine backs its services with. The component host is seen only through this view. */
export interface ServiceBackends {
  bus: EventBus
  components?: {
    has(name: string): boolean
    invoke(name: string, input: unknown, options?: { signal?: AbortSignalLike }): Promise<unknown>
  }
  /** What /admin/status shows: the engine's status and the components'. */
  status(): unknown
  /** Deploy slots (runtime/slots/service.ts); it checks each caller's principal itself. */
  slots?: SlotsService
  /** Plugin admin areas (admin-areas.ts): what the `admin` service mounts into and the islet.admin module reads. */
  admin?: AdminAreas
  /** Outbound HTTP through the fetch capability's SSRF guard (runtime/outbound); each call carries its own allowlist. */
  outbound?: OutboundService
  /** Recorded pipeline runs (runtime/executions/service.ts). */
  executions?: ExecutionsService
}

/** Who asks: for the declaration check, the source of what it publishes and the refusal messages. */
export interface ServiceCaller {
  /** e.g. `module 'audit' (acme.audit)`, `step 'q' (sql.query) of pipeline 'orders'`. */
  who: string
  /** The bus source of its events, e.g. `module:audit`, `step:orders/q`. */
  source: string
  plugin: Plugin
}

/** `ctx.service` of one module or step. */
export type ServiceLookup = <K extends ServiceName>(name: K) => Services[K]

export interface ServiceScope {
  /** The `ctx.service` of `caller`, whose subscriptions belong to this scope. */
  lookup(caller: ServiceCaller): ServiceLookup
  /** Ends every subscription made through the scope; later ones are refused. Idempotent. */
  end(): void
  readonly ended: boolean
}

export function createServiceScope(backends: ServiceBackends): ServiceScope {
  const subscriptions = new Set<() => void>()
  let ended = false

  function events(caller: ServiceCaller): EventsService {
    return Object.freeze({
      publish(topic: string, payload: unknown) {
        backends.bus.publish({ topic, payload, source: caller.source, at: new Date().toISOString() })
      },
      subscribe(pattern: string, handler: Parameters<EventsService['subscribe']>[1]) {
        if (ended) {
          throw new IsletError('ERR_ENGINE_STATE', `${caller.who} subscribed to '${pattern}' after it stopped (or its config generation ended): its subscriptions are over`)
        }
        const undo = backends.bus.subscribe(pattern, handler)
        const end = () => { subscriptions.delete(end); undo() }
        subscriptions.add(end)
        return end
      },
    })
  }

  function components(): ComponentsService {
    return Object.freeze({
      has: (name: string) => backends.components?.has(name) ?? false,
      invoke(name: string, input: unknown, options: { signal?: AbortSignalLike; logger?: Logger } = {}) {
        const host = backends.components
        if (!host) return Promise.reject(new IsletError('ERR_COMPONENT_NOT_FOUND', `no component named '${name}' is loaded: the app declares no components`))
        return host.invoke(name, input, options.signal ? { signal: options.signal } : {})
      },
    })
  }

  const slots = (): SlotsService => {
    if (backends.slots) return backends.slots
    throw new IsletError('ERR_ENGINE_STATE', 'this engine offers no slots service')
  }

  // A mount ends with the scope, like a subscription: a stopped module's admin routes stop answering.
  function admin(caller: ServiceCaller): AdminService {
    const areas = backends.admin
    if (!areas) throw new IsletError('ERR_ENGINE_STATE', 'this engine offers no admin service')
    return Object.freeze({
      mount(area: string, handler: Parameters<AdminService['mount']>[1]) {
        if (ended) throw new IsletError('ERR_ENGINE_STATE', `${caller.who} mounted admin area '${area}' after it stopped: its mounts are over`)
        const undo = areas.mount(area, handler, caller.who)
        const end = () => { subscriptions.delete(end); undo() }
        subscriptions.add(end)
        return end
      },
      handler: (area: string) => areas.handler(area),
    })
  }

  const outbound = (): OutboundService => {
    if (backends.outbound) return backends.outbound
    throw new IsletError('ERR_ENGINE_STATE', 'this engine offers no outbound service')
  }

  const executions = (): ExecutionsService => {
    if (backends.executions) return backends.executions
    throw new IsletError('ERR_ENGINE_STATE', 'this engine offers no executions service')
  }

  const status = (): StatusService => Object.freeze({ status: () => backends.status() })

  return {
    lookup(caller) {
      const made = new Map<ServiceName, unknown>()
      return <K extends ServiceName>(name: K): Services[K] => {
        if (!SERVICE_NAMES.includes(name)) {
          throw new IsletError('ERR_PLUGIN_SERVICE_UNDECLARED',
            `${caller.who} asked for service '${String(name)}', which the engine does not offer (services: ${SERVICE_NAMES.join(', ')})`,
            { details: { plugin: caller.plugin.name, service: String(name) } })
        }
        if (!(caller.plugin.services ?? []).includes(name)) {
          const declared = caller.plugin.services?.length ? `it declares ${caller.plugin.services.join(', ')}` : 'it declares none'
          throw new IsletError('ERR_PLUGIN_SERVICE_UNDECLARED',
            `${caller.who} asked for the '${name}' service, which its plugin ${caller.plugin.name}@${caller.plugin.version} does not declare (${declared}): ` +
            `add services: ['${name}'] to the plugin's definePlugin({ … })`,
            { details: { plugin: caller.plugin.name, service: name, declared: [...caller.plugin.services ?? []] } })
        }
        let service = made.get(name)
        if (!service) {
          service = name === 'events' ? events(caller) : name === 'components' ? components() : name === 'slots' ? slots()
            : name === 'admin' ? admin(caller) : name === 'outbound' ? outbound() : name === 'executions' ? executions() : status()
          made.set(name, service)
        }
        return service as Services[K]
      }
    },
    end() {
      ended = true
      for (const end of [...subscriptions]) end()
    },
    get ended() { return ended },
  }
}
