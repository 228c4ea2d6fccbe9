import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'double',
  input: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
  examples: [{ name: 'doubles', input: { n: 2 }, output: { n: 4 } }],
  async execute(input: { n: number }) {
    return { n: input.n * 2 }
  },
})
