import { defineComponent } from '@islet/sdk'

const component = defineComponent({
  name: 'echo',
  examples: [{ name: 'echoes', input: { a: 1 }, output: { a: 1 } }],
  async execute(input: unknown) {
    return input
  },
})
