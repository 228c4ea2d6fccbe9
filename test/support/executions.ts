// Test support for recorded executions: a `test.gate` step that holds its run until the test opens the gate (or the
// run's signal aborts, which it records), and a reader of server-sent events that collects them until the stream ends.
import { defineStepType, definePlugin } from '@islet/sdk'

interface Gate {
  entered: number
  open(): void
  waiters: (() => void)[]
  opened: boolean
  /** The abort reasons' codes the step saw. */
  aborts: string[]
}

const gates = new Map<string, Gate>()

export function gate(name: string): Gate {
  let g = gates.get(name)
  if (!g) {
    const made: Gate = {
      entered: 0, waiters: [], opened: false, aborts: [],
      open() { made.opened = true; for (const w of made.waiters.splice(0)) w() },
    }
    gates.set(name, g = made)
  }
  return g
}

export function resetGates(): void {
  gates.clear()
}

export const gatePlugin = definePlugin({
  name: 'test-gate', version: '1.0.0',
  stepTypes: [defineStepType<{ gate: string }>({
    type: 'test.gate',
    configSchema: { type: 'object', additionalProperties: false, required: ['gate'], properties: { gate: { type: 'string' } } },
    create(config) {
      return (scope) => new Promise((resolve, reject) => {
        const g = gate(config.gate)
        g.entered++
        if (g.opened) return resolve({ passed: config.gate })
        g.waiters.push(() => resolve({ passed: config.gate }))
        scope.signal.addEventListener('abort', () => {
          g.aborts.push(String((scope.signal.reason as { code?: unknown })?.code))
          reject(scope.signal.reason)
        }, { once: true })
      })
    },
  })],
})

export interface SseEvent {
  id?: string
  event?: string
  data?: any
}

/** Reads a server-sent event stream to its end (the server ends it); comments are skipped. */
export async function readSse(res: Response): Promise<SseEvent[]> {
  const text = await res.text()
  return parseSse(text)
}

export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = []
  for (const block of text.split('\n\n')) {
    const event: SseEvent = {}
    let any = false
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue
      const at = line.indexOf(': ')
      const field = line.slice(0, at), value = line.slice(at + 2)
      any = true
      if (field === 'data') event.data = JSON.parse(value)
      else if (field === 'id') event.id = value
      else if (field === 'event') event.event = value
    }
    if (any) events.push(event)
  }
  return events
}
