import { defineComponent } from '@islet/sdk'

export default defineComponent({
  name: 'cart',
  input: { type: 'object', required: ['cart', 'item'], properties: { cart: { type: 'string' }, item: { type: 'string' } } },
  examples: [{ name: 'adds', input: { cart: 'c1', item: 'apple' }, output: { items: 1 } }],
  async execute(input: { cart: string; item: string }, ctx) {
    const items = (await ctx.kv.get<string[]>(`cart:${input.cart}`)) ?? []
    if (!items.includes(input.item)) items.push(input.item)
    await ctx.kv.put(`cart:${input.cart}`, items)
    return { items: items.length }
  },
})
