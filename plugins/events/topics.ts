// Topic and pattern syntax, checked when the config loads. The engine's bus holds the one grammar
// (runtime/events/topics.ts) and refuses anything else at publish and subscribe; a plugin sees only the sdk, so this
// restates it to report a bad pattern at its file:line:col instead of failing the module's start.

const SEGMENT = '[a-z0-9_-]+'
const TOPIC = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*$`)
const PATTERN = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*(\\.\\*)?$`)
const MAX_CHARS = 255

export const TOPIC_SHAPE = "dotted segments of a-z, 0-9, '_' and '-', like orders.created"

/** Why `pattern` cannot be subscribed to, with a hint; undefined when it can. */
export function patternProblem(pattern: string): { message: string; hint: string } | undefined {
  if (pattern.length <= MAX_CHARS && PATTERN.test(pattern)) return undefined
  const hint = pattern === '*' || pattern.endsWith('.>') || pattern.includes('#')
    ? "to receive every topic under a prefix write prefix.* (orders.*); a bare '*' or MQTT/NATS wildcards are not topics here"
    : pattern.includes('*') && !pattern.endsWith('.*')
      ? 'a wildcard is only allowed as the whole last segment: orders.* (every topic below orders.), not orders.cre* or *.created'
      : `write a topic (${TOPIC_SHAPE}) or a topic followed by .* for every topic below it; topics are lower case`
  return { message: `'${pattern.slice(0, 80)}' is not a topic pattern`, hint }
}

/** Why `topic` cannot be published, with a hint; undefined when it can. */
export function topicProblem(topic: string): { message: string; hint: string } | undefined {
  if (topic.startsWith('islet.')) {
    return { message: `'${topic.slice(0, 80)}' is under islet.*, the engine's own topics`, hint: 'pick a topic of your own, e.g. orders.created (subscribing to islet.* is fine)' }
  }
  if (topic.length <= MAX_CHARS && TOPIC.test(topic)) return undefined
  return { message: `'${topic.slice(0, 80)}' is not a topic`, hint: `an emitted topic is ${TOPIC_SHAPE}, with no wildcard` }
}
