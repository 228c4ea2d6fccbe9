import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'rates',
  output: { type: 'object', required: ['rate'], properties: { rate: { type: 'number' } } },
  examples: [{ name: 'no network in examples', input: {}, error: 'ERR_CAPABILITY_DENIED' }],
  async execute(_input: unknown, ctx) {
    const response = await ctx.fetch('http://127.0.0.1:9/rate')
    const body = await response.json<{ rate: number }>()
    return { rate: body.rate }
  },
})
