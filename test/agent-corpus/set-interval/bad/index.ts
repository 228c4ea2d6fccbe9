import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'poll',
  input: { type: 'object', required: ['times'], properties: { times: { type: 'integer' } } },
  examples: [{ name: 'three polls', input: { times: 3 }, output: { polls: 3 } }],
  async execute(input: { times: number }) {
    let polls = 0
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        polls += 1
        if (polls === input.times) {
          clearInterval(timer)
          resolve()
        }
      }, 5)
    })
    return { polls }
  },
})
