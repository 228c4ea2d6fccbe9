// The grammar of event topics and of the topic patterns an `emit` grant lists: one definition, used by the config
// schema (component-schema.ts), the config checks (config/grants.ts), the emit capability and the bus.
//
// A topic is dotted segments of lower-case letters, digits, '_' and '-' (`orders.created`), at most 255 characters.
// A pattern is a topic, or a topic followed by `.*` for every topic below it. Emitted topics are topics, never
// patterns: no wildcard, empty segment, control character or other character a subscriber's pattern could misread.

/** Longest topic (and pattern) in characters. */
export const TOPIC_MAX_CHARS = 255

const SEGMENT = '[a-z0-9_-]+'
/** A topic, as a JSON Schema `pattern` / RegExp source. */
export const TOPIC_SOURCE = `^${SEGMENT}(\\.${SEGMENT})*$`
/** A topic pattern an emit grant may list, as a JSON Schema `pattern` / RegExp source. */
export const TOPIC_PATTERN_SOURCE = `^${SEGMENT}(\\.${SEGMENT})*(\\.\\*)?$`

const TOPIC = new RegExp(TOPIC_SOURCE)

/** Why `topic` is not a valid topic to emit, or undefined when it is. Never quotes the topic. */
export function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== 'string') return `a topic is a string, not ${topic === null ? 'null' : typeof topic}`
  if (topic.length > TOPIC_MAX_CHARS) return `a topic is at most ${TOPIC_MAX_CHARS} characters (this one is ${topic.length})`
  if (!TOPIC.test(topic)) return "a topic is dotted segments of a-z, 0-9, '_' and '-', like orders.created (no wildcards, no empty segments)"
  return undefined
}

/** Does `topic` match a grant or subscription `pattern` (`orders.created`, or `orders.*` for any topic under `orders.`)? */
export function topicMatches(pattern: string, topic: string): boolean {
  return pattern.endsWith('.*') ? topic.startsWith(pattern.slice(0, -1)) && topic.length > pattern.length - 1 : pattern === topic
}
