// Writes the customer's receipt for a paid order and announces it on the bus as `orders.paid`: the notifications
// subscriber (app.yaml) turns that event into a message to the notification service. The component only words it;
// where it goes is the app's business.
import { defineComponent } from '@islet/sdk'

interface Input {
  order: { id: string; sku: string; qty: number; total: number; currency: string; email: string }
  charge: { id: string; attempts: number }
}
interface Output { orderId: string; email: string; subject: string; text: string }

const money = (amount: number, currency: string) => `${amount.toFixed(2)} ${currency}`

export default defineComponent<unknown, Input, Output>({
  name: 'receipt',
  description: 'Words the receipt of a paid order and emits it as orders.paid.',
  capabilities: { emit: ['orders.paid'] },
  input: {
    type: 'object',
    required: ['order', 'charge'],
    properties: {
      order: {
        type: 'object',
        required: ['id', 'sku', 'qty', 'total', 'currency', 'email'],
        properties: {
          id: { type: 'string', minLength: 1 }, sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 },
          total: { type: 'number', minimum: 0 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' }, email: { type: 'string', minLength: 3 },
        },
      },
      charge: {
        type: 'object', required: ['id', 'attempts'],
        properties: { id: { type: 'string', pattern: '^ch_' }, attempts: { type: 'integer', minimum: 1 } },
      },
    },
  },
  output: { type: 'object', required: ['orderId', 'email', 'subject', 'text'] },
  limits: { timeoutMs: 500, memoryMb: 32 },
  // Emits in examples are captured, never published: running them sends nobody a receipt.
  examples: [
    {
      name: 'a paid order',
      input: { order: { id: 'o-1', sku: 'TEA-1', qty: 2, total: 9, currency: 'EUR', email: 'ada@example.com' }, charge: { id: 'ch_1_3', attempts: 3 } },
      output: {
        orderId: 'o-1', email: 'ada@example.com', subject: 'Order o-1 is paid',
        text: '2 × TEA-1, 9.00 EUR charged (ch_1_3). We will tell you when it ships.',
      },
    },
    { name: 'not a charge id', input: { order: { id: 'o-1', sku: 'TEA-1', qty: 2, total: 9, currency: 'EUR', email: 'ada@example.com' }, charge: { id: 'x', attempts: 1 } }, error: 'ERR_COMPONENT_INPUT_INVALID' },
  ],
  async execute({ order, charge }, ctx) {
    const receipt = {
      orderId: order.id,
      email: order.email,
      subject: `Order ${order.id} is paid`,
      text: `${order.qty} × ${order.sku}, ${money(order.total, order.currency)} charged (${charge.id}). We will tell you when it ships.`,
    }
    // How many attempts the gateway took is ours to know, not the customer's: it goes to the log only.
    if (charge.attempts > 1) ctx.log.info('paid after retries', { order: order.id, attempts: charge.attempts })
    await ctx.emit('orders.paid', receipt)
    return receipt
  },
})
