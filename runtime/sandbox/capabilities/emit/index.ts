// ctx.emit: publishes an event on the engine's bus, for the granted topics only (one topic grammar: events/topics.ts).
import { TOPIC_MAX_CHARS, TOPIC_PATTERN_SOURCE } from '../../../events/topics.ts'
import { defineCapability, type GrantProblem } from '../capability.ts'

/** Largest event payload, as JSON bytes. */
export const MAX_EVENT_BYTES = 65_536

export default defineCapability({
  name: 'emit',
  doc: 'publishes events on the engine\'s bus, for the granted topics (exact, or a prefix ending in .*)',
  ops: { emit: [{ name: 'topic', max: TOPIC_MAX_CHARS }, { name: 'payload', max: MAX_EVENT_BYTES }] },
  deniedAs: 'any topic to emit',
  guest: {
    value: String.raw`(topic, payload) => then(call(state, 'emit', [Str(topic), payload === undefined ? null : payload]), () => undefined)`,
  },
  grant: {
    schema: {
      type: 'array', default: [], description: 'Event topics it may emit.',
      items: { type: 'string', pattern: TOPIC_PATTERN_SOURCE, description: "a dotted topic like orders.created, or a prefix like 'orders.*'" },
    },
    none: [] as string[],
    grants: (grant: string[] | undefined) => grant !== undefined && grant.length > 0,
    check: checkEmitGrant,
  },
  cli: {
    flag: 'emit', type: 'string', usage: '[--emit topic]',
    help: 'grant emit on this topic pattern (repeatable); emits are captured and printed',
    grant: (value) => Array.isArray(value) ? value : [],
  },
  host: () => import('./host.ts'),
})

/** Emit patterns: the schema checks their grammar; their length is checked here, with a clearer word. */
function checkEmitGrant(emit: unknown): GrantProblem[] {
  if (!Array.isArray(emit)) return []
  const problems: GrantProblem[] = []
  emit.forEach((pattern: unknown, j) => {
    if (typeof pattern !== 'string' || pattern.length <= TOPIC_MAX_CHARS) return
    problems.push({ path: [j], message: `emit topic pattern '${pattern.slice(0, 60)}…' is ${pattern.length} characters long`,
      hint: `topics and their patterns are at most ${TOPIC_MAX_CHARS} characters: shorten it` })
  })
  return problems
}
