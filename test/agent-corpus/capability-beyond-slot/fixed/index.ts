import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'quote',
  capabilities: { kv: true },
  examples: [{ name: 'quotes', input: {}, output: { price: 1 } }],
  async execute() {
    return { price: 1 }
  },
})
