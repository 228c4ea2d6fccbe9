import { defineComponent } from '@islet/sdk'
import axios from 'axios'

export default defineComponent({
  name: 'rates',
  output: { type: 'object', required: ['rate'], properties: { rate: { type: 'number' } } },
  examples: [{ name: 'no network in examples', input: {}, error: 'ERR_CAPABILITY_DENIED' }],
  async execute() {
    const response = await axios.get('http://127.0.0.1:9/rate')
    return { rate: response.data.rate }
  },
})
