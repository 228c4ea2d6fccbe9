import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'hello',
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  output: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
  examples: [{ name: 'greets', input: { name: 'Ada' }, output: { text: 'Hello, Ada' } }],
  async execute(input: { name: string }) {
    return { text: `Hello, ${input.name}` }
  },
})
