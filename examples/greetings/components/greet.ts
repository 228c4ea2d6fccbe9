// Greets someone and announces it on the event bus (granted `greetings.*` in app.yaml).
import { defineComponent } from '@islet/sdk'

export default defineComponent<unknown, { who: string }, { greeting: string }>({
  name: 'greet',
  input: { type: 'object', required: ['who'], properties: { who: { type: 'string', minLength: 1, maxLength: 64 } } },
  output: { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } },
  examples: [{ name: 'greets', input: { who: 'alice' }, output: { greeting: 'hello, alice' } }],
  async execute({ who }, ctx) {
    await ctx.emit('greetings.sent', { to: who })
    return { greeting: `hello, ${who}` }
  },
})
