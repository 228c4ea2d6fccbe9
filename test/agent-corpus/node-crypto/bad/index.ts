import { defineComponent } from '@islet/sdk'
import crypto from 'node:crypto'

export default defineComponent({
  name: 'ids',
  output: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
  examples: [{ name: 'an id', input: {} }],
  async execute() {
    return { id: crypto.randomUUID() }
  },
})
