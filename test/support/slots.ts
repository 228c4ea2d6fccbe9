// Test support for deploy slots: a tiny real plugin whose module hands out ctx.service('slots') (as admin-api and mcp
// reach it), principals, a component source per version, and an app with a slot called by an HTTP route.
import { defineModuleType, definePlugin, type Principal, type SlotsService } from '@islet/sdk'

export const probe = definePlugin({
  name: '@acme/slots-probe', version: '1.0.0', services: ['slots'],
  moduleTypes: [defineModuleType<object, { slots: SlotsService }>({
    type: 'acme.slots-probe', configSchema: { type: 'object' },
    create: (_config, ctx) => ({ slots: ctx.service('slots') }),
  })],
})

export const ADMIN: Principal = { subject: 'ops', via: 'apikey', scopes: ['admin'] }
export const DEPLOYER: Principal = { subject: 'agent-7', via: 'apikey', scopes: ['deploy:pricing'] }
export const READER: Principal = { subject: 'dash', via: 'apikey', scopes: ['admin:read'] }
export const STRANGER: Principal = { subject: 'nobody', via: 'apikey', scopes: ['orders:write'] }

/** Version `v` of the pricing component: its output names its version; `extra` goes into defineComponent({ … }). */
export const pricing = (v: number, extra = '') => `import { defineComponent } from '@islet/sdk'
export default defineComponent({
  name: 'pricing',${extra}
  examples: [{ input: { n: 2 }, output: { version: ${v}, total: 2 } }],
  execute(input: { n: number }, ctx) {
    ctx.log.info('priced v${v}', { n: input.n })
    return { version: ${v}, total: input.n }
  },
})
`

export const appYaml = (slotExtra = '') => `apiVersion: islet/v1
components:
  - slot: pricing
    description: Prices a cart
    grants: { kv: true }
    limits: { timeoutMs: 2000 }
    deployers: ['deploy:pricing']${slotExtra}
modules:
  - name: probe
    type: acme.slots-probe
  - name: api
    type: http.router
    config:
      routes: [{ method: POST, path: /quote, pipeline: quote }]
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
pipelines:
  quote:
    steps:
      - { name: out, type: component, config: { component: pricing, input: '\${{ body }}' } }
      - type: respond
        config: { body: '\${{ steps.out }}' }
`
