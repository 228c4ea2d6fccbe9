import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'price',
  input: { type: 'object', required: ['qty'], properties: { qty: { type: 'integer' } } },
  output: { type: 'object', required: ['total'], properties: { total: { type: 'number' } } },
  examples: [{ name: 'two', input: { qty: 2 }, output: { total: 19.98 } }],
  async execute(input: { qty: number }) {
    return { total: Math.round(input.qty * 999) / 100 }
  },
})
