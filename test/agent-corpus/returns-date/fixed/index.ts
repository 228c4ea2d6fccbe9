import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'due',
  input: { type: 'object', required: ['days'], properties: { days: { type: 'integer' } } },
  examples: [{ name: 'in a day', input: { days: 1 }, output: { due: '2026-01-02T00:00:00.000Z' } }],
  async execute(input: { days: number }) {
    return { due: new Date(Date.UTC(2026, 0, 1 + input.days)).toISOString() }
  },
})
