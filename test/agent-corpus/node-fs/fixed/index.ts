import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'notes',
  input: { type: 'object', required: ['id', 'text'], properties: { id: { type: 'string' }, text: { type: 'string' } } },
  output: { type: 'object', required: ['saved'], properties: { saved: { type: 'boolean' } } },
  examples: [{ name: 'saves', input: { id: 'a', text: 'hello' }, output: { saved: true } }],
  async execute(input: { id: string; text: string }, ctx) {
    await ctx.kv.set(`note:${input.id}`, input.text)
    return { saved: true }
  },
})
