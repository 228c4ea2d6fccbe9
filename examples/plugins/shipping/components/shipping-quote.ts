// Prices a parcel: a base rate per destination zone plus a rate per started kilogram, and the days it takes.
import { defineComponent, StepError } from '@islet/sdk'

interface Input { country: string; weightKg: number }
interface Output { country: string; zone: string; cost: number; currency: string; days: number }

/** Zones by ISO country code; everything else is 'world'. */
const ZONES: Record<string, string> = { DE: 'home', AT: 'eu', FR: 'eu', NL: 'eu', IT: 'eu', ES: 'eu', CH: 'europe', GB: 'europe' }
const RATES: Record<string, { base: number; perKg: number; days: number }> = {
  home: { base: 4.9, perKg: 0.5, days: 2 },
  eu: { base: 9.9, perKg: 1.2, days: 4 },
  europe: { base: 14.9, perKg: 2, days: 6 },
  world: { base: 24.9, perKg: 4.5, days: 10 },
}

export default defineComponent<Record<string, never>, Input, Output>({
  name: 'shipping-quote',
  description: 'Shipping cost and delivery days for a parcel.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['country', 'weightKg'],
    properties: { country: { type: 'string', pattern: '^[A-Z]{2}$' }, weightKg: { type: 'number', exclusiveMinimum: 0, maximum: 30 } },
  },
  limits: { timeoutMs: 200, memoryMb: 16 },
  examples: [
    { name: 'home, light', input: { country: 'DE', weightKg: 0.4 }, output: { country: 'DE', zone: 'home', cost: 5.4, currency: 'EUR', days: 2 } },
    { name: 'world, 3 kg', input: { country: 'JP', weightKg: 2.2 }, output: { country: 'JP', zone: 'world', cost: 38.4, currency: 'EUR', days: 10 } },
    { name: 'too heavy', input: { country: 'DE', weightKg: 31 }, error: 'ERR_COMPONENT_INPUT_INVALID' },
    { name: 'not a country code', input: { country: 'Germany', weightKg: 1 }, error: 'ERR_COMPONENT_INPUT_INVALID' },
  ],
  execute({ country, weightKg }) {
    const zone = ZONES[country] ?? 'world'
    const rate = RATES[zone]
    // The table above covers every zone; a miss is this component's bug, reported as such rather than as NaN.
    if (!rate) throw new StepError({ status: 500, code: 'ERR_SHIPPING_ZONE', message: `no rate for zone '${zone}'` })
    const cost = Math.round((rate.base + rate.perKg * Math.ceil(weightKg)) * 100) / 100
    return { country, zone, cost, currency: 'EUR', days: rate.days }
  },
})
