// Topics across the app (sdk AppView), as warnings: an event that nothing subscribes to is dropped, and a subscription
// that nothing publishes to never runs. Both may be intended (another plugin publishes or subscribes through the
// events service, a topic is subscribed to ahead of its publisher), so neither fails the load. What publishes: emit
// steps (a topic written with ${{ }} may be anything under its literal start), components and deploy slots through
// their `emit` grant, queues (`queue.<name>.dead`) and the engine itself (islet.*).
import type { AppComponent, AppView } from '@islet/sdk'
import type { EmitConfig } from './emit-step.ts'
import type { SubscriberConfig } from './subscriber.ts'

/** A set of topics: exactly `text`, or (`below`) every topic that starts with `text` and goes on. */
interface Topics { text: string; below: boolean }

const ENGINE: Topics = { text: 'islet.', below: true }

/** `orders.created` is itself; `orders.*` is every topic below `orders.`. */
const ofPattern = (pattern: string): Topics => (pattern.endsWith('.*') ? { text: pattern.slice(0, -1), below: true } : { text: pattern, below: false })

/** What an emit step's topic may evaluate to: itself, or anything starting with what precedes its first ${{ }}. */
const ofEmitted = (topic: string): Topics => {
  const at = topic.indexOf('${{')
  return at < 0 ? { text: topic, below: false } : { text: topic.slice(0, at), below: true }
}

function overlap(a: Topics, b: Topics): boolean {
  if (!a.below && !b.below) return a.text === b.text
  if (a.below && b.below) return a.text.startsWith(b.text) || b.text.startsWith(a.text)
  const [exact, below] = a.below ? [b, a] : [a, b]
  return exact.text.startsWith(below.text) && exact.text.length > below.text.length
}

const emitGrants = (c: AppComponent): string[] =>
  (Array.isArray(c.grants.emit) ? c.grants.emit : []).filter((t): t is string => typeof t === 'string')

function subscriptions(app: AppView): string[] {
  return app.modules('events.subscriber').flatMap((m) => (m.config as SubscriberConfig).subscriptions.map((s) => s.topic))
}

function unheard(topic: string, app: AppView): { message: string; hint: string } | undefined {
  const patterns = subscriptions(app)
  if (patterns.some((p) => overlap(ofPattern(p), ofPattern(topic)))) return undefined
  const near = app.didYouMean(topic, patterns.filter((p) => !p.endsWith('.*')))
  return {
    message: `nothing in this app subscribes to '${topic}': its events are dropped`,
    hint: (near ? `${near} ` : '') + (patterns.length
      ? `${[...new Set(patterns)].join(', ')} are subscribed to; subscribe to it with an events.subscriber module (or fix the topic), unless a plugin subscribes through the events service`
      : 'subscribe to it with an events.subscriber module (subscriptions: [{ topic, pipeline }]), unless a plugin subscribes through the events service'),
  }
}

/** The emit step: a literal topic no subscription matches. */
export function checkEmitHeard(config: EmitConfig, app: AppView): void {
  if (config.topic.includes('${{')) return
  const problem = unheard(config.topic, app)
  if (problem) app.report({ code: 'ERR_EVENTS_NO_SUBSCRIBER', path: ['topic'], severity: 'warning', ...problem })
}

/** The plugin: a component's (or slot's) emit grant of a literal topic no subscription matches. */
export function checkGrantsHeard(app: AppView): void {
  for (const c of app.components()) {
    emitGrants(c).forEach((topic, j) => {
      if (topic.endsWith('.*')) return
      const problem = unheard(topic, app)
      if (problem) app.report({ code: 'ERR_EVENTS_NO_SUBSCRIBER', at: c, path: ['grants', 'emit', j], severity: 'warning', ...problem })
    })
  }
}

/** events.subscriber: a subscription whose pattern nothing in the app (nor the engine) can publish. */
export function checkSubscriptionsFed(config: SubscriberConfig, app: AppView): void {
  const producers: Topics[] = [ENGINE,
    ...app.steps('emit').map((s) => ofEmitted((s.config as EmitConfig).topic)),
    ...app.components().flatMap((c) => emitGrants(c).map(ofPattern)),
    // A queue.sqlite consumer publishes the jobs that go dead (plugins/queue/dead-event.ts).
    ...app.modules('queue.sqlite').map((m): Topics => ({ text: `queue.${m.name.toLowerCase()}.dead`, below: false }))]
  config.subscriptions.forEach((sub, i) => {
    const wanted = ofPattern(sub.topic)
    if (producers.some((p) => overlap(p, wanted))) return
    const emitted = [...new Set(producers.slice(1).map((p) => (p.below ? `${p.text}*` : p.text)))]
    const near = wanted.below ? undefined : app.didYouMean(sub.topic, producers.filter((p) => !p.below).map((p) => p.text))
    app.report({
      code: 'ERR_EVENTS_NO_PUBLISHER', path: ['subscriptions', i, 'topic'], severity: 'warning',
      message: `nothing in this app publishes to '${sub.topic}': no emit step, component grant, queue's dead letters (queue.<name>.dead) or engine topic (islet.*) matches, so this subscription never runs`,
      hint: (near ? `${near} ` : '') + (emitted.length
        ? `topics this app publishes: ${emitted.join(', ')}; fix the topic, or add an emit step for it, unless a plugin publishes it`
        : 'add an emit step (type: emit, config: { topic }) or grant a component emit: [topic], unless a plugin publishes it'),
    })
  })
}
