import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'tally',
  input: { type: 'object', required: ['words'], properties: { words: { type: 'array', items: { type: 'string' } } } },
  examples: [{ name: 'counts', input: { words: ['a', 'b', 'a'] }, output: { counts: { a: 2, b: 1 } } }],
  async execute(input: { words: string[] }) {
    const counts = new Map<string, number>()
    for (const word of input.words) counts.set(word, (counts.get(word) ?? 0) + 1)
    return { counts: Object.fromEntries(counts) }
  },
})
