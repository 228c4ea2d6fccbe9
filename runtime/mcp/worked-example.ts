// The worked example describe_platform shows an agent: a component that passes every validation step in any slot
// (it asks for no capability and stays under any limits), so copying its shape is a safe first deploy.
// test/mcp-http.test.ts deploys it through MCP to prove it still passes.

/** The example's entry file (`index.ts`), named `name` (use the slot's name). */
export function workedExample(name: string): string {
  return `import { defineComponent } from '@islet/sdk'

interface Item { sku: string; qty: number; unitPrice: number }
interface Input { items: Item[] }
interface Output { total: number; lines: number }

export default defineComponent<unknown, Input, Output>({
  name: ${JSON.stringify(name)},
  description: 'Sums a cart: qty × unitPrice per line, rounded to cents',
  // JSON Schemas: the input is checked before execute runs, the output before it is returned.
  input: {
    type: 'object', required: ['items'], additionalProperties: false,
    properties: {
      items: {
        type: 'array', maxItems: 100,
        items: {
          type: 'object', required: ['sku', 'qty', 'unitPrice'], additionalProperties: false,
          properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 }, unitPrice: { type: 'number', minimum: 0 } },
        },
      },
    },
  },
  output: {
    type: 'object', required: ['total', 'lines'], additionalProperties: false,
    properties: { total: { type: 'number' }, lines: { type: 'integer' } },
  },
  // Examples run in the sandbox before the version is accepted: the expected output must match exactly (JSON).
  examples: [
    { name: 'two lines', input: { items: [{ sku: 'A1', qty: 2, unitPrice: 9.99 }, { sku: 'B2', qty: 1, unitPrice: 5 }] }, output: { total: 24.98, lines: 2 } },
    { name: 'empty cart', input: { items: [] }, output: { total: 0, lines: 0 } },
    { name: 'bad input is refused', input: { items: [{ sku: 'A1', qty: 0, unitPrice: 1 }] }, error: 'ERR_COMPONENT_INPUT_INVALID' },
  ],
  execute(input, ctx) {
    const cents = input.items.reduce((sum, item) => sum + Math.round(item.unitPrice * 100) * item.qty, 0)
    ctx.log.info('priced a cart', { lines: input.items.length })
    return { total: cents / 100, lines: input.items.length }
  },
})
`
}
