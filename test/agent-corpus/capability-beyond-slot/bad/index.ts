import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'quote',
  capabilities: { kv: true, fetch: ['https://api.example.com'], secrets: ['API_KEY'] },
  examples: [{ name: 'quotes', input: {}, output: { price: 1 } }],
  async execute() {
    return { price: 1 }
  },
})
