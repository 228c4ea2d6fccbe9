import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'poll',
  input: { type: 'object', required: ['times'], properties: { times: { type: 'integer' } } },
  examples: [{ name: 'three polls', input: { times: 3 }, output: { polls: 3 } }],
  async execute(input: { times: number }) {
    let polls = 0
    // One setTimeout per poll, all within the invocation: there are no intervals.
    while (polls < input.times) {
      await new Promise<void>((resolve) => setTimeout(resolve, 5))
      polls += 1
    }
    return { polls }
  },
})
