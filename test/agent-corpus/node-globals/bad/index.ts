import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'greeting',
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  output: { type: 'object', required: ['text', 'bytes'], properties: { text: { type: 'string' }, bytes: { type: 'integer' } } },
  examples: [{ name: 'greets', input: { name: 'Ada' }, output: { text: 'Hello, Ada', bytes: 10 } }],
  async execute(input: { name: string }) {
    const greeting = process.env.GREETING ?? 'Hello'
    const text = `${greeting}, ${input.name}`
    return { text, bytes: Buffer.byteLength(text) }
  },
})
