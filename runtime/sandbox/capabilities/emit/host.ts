// The engine's side of ctx.emit: the topic's grammar, then the grant, then the payload's size; published on the bus
// (or, for examples, handed to the scratch recorder and never published).
import { ENGINE_TOPIC_PREFIX } from '../../../events/bus.ts'
import { topicMatches, topicProblem } from '../../../events/topics.ts'
import type { CapabilityDeps, CapabilityHost } from '../capability.ts'
import { deny, quoteGuest } from '../refusal.ts'
import { MAX_EVENT_BYTES } from './index.ts'

export function create(grant: string[] | undefined, name: string, deps: CapabilityDeps): CapabilityHost {
  const patterns = grant ?? []
  return {
    ops: {
      emit([topic, payload]) {
        // The topic's grammar first: a grant of `orders.*` must not let `orders.#`, `orders..` or a newline through.
        const problem = topicProblem(topic)
        if (problem) throw deny('emit', 'invalid-topic', `component '${name}' cannot emit ${typeof topic === 'string' ? quoteGuest(topic) : 'that'}: ${problem}`)
        // islet.* is the engine's (reload events the admin stream trusts), whatever a grant says.
        if ((topic as string).startsWith(ENGINE_TOPIC_PREFIX)) throw deny('emit', 'reserved-topic', `component '${name}' may not emit ${quoteGuest(topic)}: topics under islet.* are the engine's own`)
        if (!patterns.some((p) => topicMatches(p, topic as string))) {
          throw deny('emit', 'topic-not-granted', `component '${name}' may not emit ${quoteGuest(topic)}${patterns.length ? `; granted: ${patterns.join(', ')}` : '; no topics are granted'}`)
        }
        if (Buffer.byteLength(JSON.stringify(payload ?? null)) > MAX_EVENT_BYTES) throw deny('emit', 'payload-too-large', `event payloads are at most ${MAX_EVENT_BYTES} bytes`)
        if (deps.scratch) deps.scratch.emitted(topic as string, payload ?? null)
        else deps.bus.publish({ topic: topic as string, payload, source: `component:${name}`, at: new Date().toISOString() })
        return null
      },
    },
  }
}
