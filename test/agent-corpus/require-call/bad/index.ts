import { defineComponent } from '@islet/sdk'
const { slugify } = require('./slug.js')

export default defineComponent({
  name: 'slug',
  input: { type: 'object', required: ['title'], properties: { title: { type: 'string' } } },
  examples: [{ name: 'slugs', input: { title: 'Hello World' }, output: { slug: 'hello-world' } }],
  async execute(input: { title: string }) {
    return { slug: slugify(input.title) }
  },
})
