import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'rates',
  input: { type: 'object', required: ['base'], properties: { base: { type: 'string' } } },
  output: { type: 'object', required: ['rate'], properties: { rate: { type: 'number' } } },
  // Examples run with throwaway capabilities: no network, so the example says the call is refused there.
  examples: [{ name: 'no network in examples', input: { base: 'EUR' }, error: 'ERR_CAPABILITY_DENIED' }],
  async execute(input: { base: string }) {
    const response = await fetch(`http://127.0.0.1:9/latest?base=${encodeURIComponent(input.base)}`)
    const body = (await response.json()) as { rate: number }
    return { rate: body.rate }
  },
})
