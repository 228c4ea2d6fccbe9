import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'visits',
  output: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } },
  examples: [{ name: 'counts', input: {}, output: { ok: true } }],
  async execute(_input: unknown, ctx) {
    await ctx.kv.increment('visits')
    return { ok: true }
  },
})
