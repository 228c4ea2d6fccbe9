import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'rates',
  input: { type: 'object', required: ['base'], properties: { base: { type: 'string' } } },
  output: { type: 'object', required: ['rate'], properties: { rate: { type: 'number' } } },
  examples: [{ name: 'euro', input: { base: 'EUR' }, output: { rate: 1.08 } }],
  async execute(input: { base: string }) {
    const response = await fetch(`https://api.exchangerate.example/latest?base=${input.base}`)
    const body = (await response.json()) as { rate: number }
    return { rate: body.rate }
  },
})
