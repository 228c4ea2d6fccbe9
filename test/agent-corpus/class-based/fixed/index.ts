import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'greeter',
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  examples: [{ name: 'greets', input: { name: 'Ada' }, output: { text: 'Hello, Ada' } }],
  async execute(input: { name: string }) {
    return { text: `Hello, ${input.name}` }
  },
})
