import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'lower',
  input: { type: 'object', required: ['s'], properties: { s: { type: 'string' } } },
  examples: [{ name: 'lowers', input: { s: 'AB' }, output: { n: 'ab' } }],
  async execute(input: { s: string }) {
    const n: string = input.s.toLowerCase()
    return { n }
  },
})
