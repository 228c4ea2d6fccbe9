import { defineComponent } from '@islet/sdk'

export default defineComponent<{ greeting?: string }>({
  name: 'greeting',
  config: { type: 'object', properties: { greeting: { type: 'string' } } },
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  output: { type: 'object', required: ['text', 'bytes'], properties: { text: { type: 'string' }, bytes: { type: 'integer' } } },
  examples: [{ name: 'greets', input: { name: 'Ada' }, output: { text: 'Hello, Ada', bytes: 10 } }],
  async execute(input: { name: string }, ctx) {
    const text = `${ctx.config.greeting ?? 'Hello'}, ${input.name}`
    return { text, bytes: new TextEncoder().encode(text).length }
  },
})
