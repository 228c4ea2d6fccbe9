// The exact shape a component's entry must have, quoted by every diagnostic about a missing or wrong default export:
// an agent (or a person) can paste it and fill it in, in one step.
export const COMPONENT_SHAPE = "the entry's default export must be the definition object: import { defineComponent } from '@islet/sdk'; "
  + "export default defineComponent({ name: 'my-component', input: { type: 'object', properties: { … } }, output: { type: 'object', properties: { … } }, "
  + 'examples: [{ input: { … }, output: { … } }], async execute(input, ctx) { return { … } } }) '
  + '(a plain object, not a class or a function; state goes in ctx.kv, not in fields)'
