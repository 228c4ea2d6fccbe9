// A transition asked for from inside a pipeline of the same instance's own transition (an on-enter pipeline calling a
// pipeline with a state.transition step on meta.instance) would wait for the transition that waits for it: it is
// refused at once with 409 ERR_STATE_REENTRANT, and the instance is left as it was. Another instance is fine, and so is
// a transition made after the commit by a subscriber of an event the pipeline emitted, or by the consumer of a job it
// enqueued, even when either asks while the transition still runs.
import { afterEach, describe, expect, it } from 'vitest'
import { definePlugin, defineStepType, moduleRef } from '@islet/sdk'
import { writeFiles } from './support/files.ts'
import { gate, gatePlugin, resetGates } from './support/executions.ts'
import { startStateApp, type StateApp } from './support/state-app.ts'
import { until } from './support/until.ts'
import { stateMachine, type StateMachineModule } from '../plugins/state/index.ts'
import type { Subscriber } from '../plugins/events/index.ts'

/** Transitions requested by `test.move` (its id), known the moment the request is made. */
const requested: string[] = []

const movePlugin = definePlugin({
  name: 'test-move', version: '1.0.0',
  stepTypes: [defineStepType<{ machine: string; instance: string; event: string }>({
    type: 'test.move',
    configSchema: {
      type: 'object', additionalProperties: false, required: ['machine', 'instance', 'event'],
      properties: { machine: moduleRef('a state machine', stateMachine), instance: { type: 'string' }, event: { type: 'string' } },
    },
    create(config, ctx) {
      const machine = ctx.module(config.machine, stateMachine)
      const instance = ctx.compile<string>(config.instance)
      return (run) => {
        const id = String(instance(run))
        const moved = machine.transition(id, config.event)
        requested.push(id)
        return moved
      }
    },
  })],
})

const APP = `apiVersion: islet/v1
modules:
  - name: subs
    type: events.subscriber
    config:
      subscriptions: [{ topic: jobs.kicked, pipeline: finish }]
  - name: work
    type: queue.sqlite
    config:
      consumer: { pipeline: advance }
  - name: jobs
    type: state.machine
    config:
      initial: queued
      states:
        queued: { on: { loop: looping, spawn: spawning, kick: kicked, hand: handed } }
        handed: { onEnter: hand-over, on: { finish: done } }
        looping: { onEnter: self-move, on: { again: done } }
        spawning: { onEnter: spawn-child, on: { again: done } }
        kicked: { onEnter: announce, on: { finish: done } }
        done: { terminal: true }
  - name: clones
    type: state.machine
    config:
      initial: born
      states:
        born: { onEnter: clone, on: { end: gone } }
        gone: { terminal: true }
pipelines:
  # A machine's own pipelines reach it through a called pipeline (compiled when first run, after the machine started).
  self-move:
    steps:
      - type: call
        config: { pipeline: move-again, input: '\${{ meta.instance }}' }
  move-again:
    steps:
      - type: state.transition
        config: { machine: jobs, instance: '\${{ input }}', event: again }
  spawn-child:
    steps:
      - type: call
        config: { pipeline: make-child, input: '\${{ meta.instance }}-child' }
  make-child:
    steps:
      - type: state.create
        config: { machine: jobs, id: '\${{ input }}' }
  announce:
    steps:
      - type: emit
        config: { topic: jobs.kicked, payload: { id: '\${{ meta.instance }}' } }
      - type: test.gate
        config: { gate: announced }
  hand-over:
    steps:
      - type: call
        config: { pipeline: put-job, input: '\${{ meta.instance }}' }
      - type: test.gate
        config: { gate: handed }
  put-job:
    steps:
      - type: enqueue
        config: { queue: work, payload: { id: '\${{ input }}' } }
  advance:
    steps:
      - type: test.move
        config: { machine: jobs, instance: '\${{ input.id }}', event: finish }
  finish:
    steps:
      - type: test.move
        config: { machine: jobs, instance: '\${{ input.id }}', event: finish }
  clone:
    steps:
      - type: call
        config: { pipeline: make-clone, input: '\${{ meta.instance }}' }
  make-clone:
    steps:
      - type: state.create
        config: { machine: clones, id: '\${{ input }}' }
`

let app: StateApp | undefined
let cleanup: (() => void) | undefined
afterEach(async () => {
  await app?.stop()
  cleanup?.()
  app = cleanup = undefined
  requested.length = 0
  resetGates()
})

async function start(): Promise<{ jobs: StateMachineModule; clones: StateMachineModule }> {
  const files = writeFiles({ 'app.yaml': APP })
  cleanup = files.cleanup
  app = await startStateApp(files.dir, undefined, [gatePlugin, movePlugin])
  return { jobs: app.engine.module<StateMachineModule>('jobs'), clones: app.engine.module<StateMachineModule>('clones') }
}

describe('a transition from inside its own instance\'s transition', () => {
  it('is refused at once with 409 ERR_STATE_REENTRANT; nothing commits and the instance takes its next event', async () => {
    const { jobs } = await start()
    await jobs.create({ id: 'j-1' })
    await expect(jobs.transition('j-1', 'loop')).rejects.toMatchObject({ status: 409, code: 'ERR_STATE_REENTRANT' })
    expect(jobs.get('j-1', { history: true })).toMatchObject({ state: 'queued', version: 0, history: [{ to: 'queued' }] })
    await expect(jobs.transition('j-1', 'spawn')).resolves.toMatchObject({ state: 'spawning', version: 1 })
  })

  it('a create of the same id from the on-enter pipeline of its creation is refused too, and nothing is created', async () => {
    const { clones } = await start()
    await expect(clones.create({ id: 'c-1' })).rejects.toMatchObject({ status: 409, code: 'ERR_STATE_REENTRANT' })
    expect(() => clones.get('c-1')).toThrow(expect.objectContaining({ code: 'ERR_STATE_INSTANCE_NOT_FOUND' }))
  })

  it('another instance may be created or moved from inside a transition', async () => {
    const { jobs } = await start()
    await jobs.create({ id: 'j-2' })
    await expect(jobs.transition('j-2', 'spawn')).resolves.toMatchObject({ state: 'spawning', version: 1 })
    expect(jobs.get('j-2-child')).toMatchObject({ state: 'queued', version: 0 })
  })

  it('a subscriber of an event the pipeline emitted moves the instance after the commit, even when it asks while the transition still runs', async () => {
    const { jobs } = await start()
    await jobs.create({ id: 'j-3' })
    const kicked = jobs.transition('j-3', 'kick')
    // The subscriber's transition is asked for while the on-enter pipeline that emitted its event is held open.
    await until(() => requested.includes('j-3') && gate('announced').entered === 1)
    gate('announced').open()
    await expect(kicked).resolves.toMatchObject({ state: 'kicked', version: 1 })
    const subscription = () => app!.engine.module<Subscriber>('subs').status().subscriptions[0]!
    await until(() => subscription().delivered + subscription().failed === 1)
    expect(subscription()).toMatchObject({ delivered: 1, failed: 0 })
    expect(jobs.get('j-3', { history: true }).history!.map((h) => h.to)).toEqual(['queued', 'kicked', 'done'])
  })

  it('so does the consumer of a job the pipeline enqueued: it is not dead-lettered as a re-entry', async () => {
    const { jobs } = await start()
    await jobs.create({ id: 'j-4' })
    const handed = jobs.transition('j-4', 'hand')
    // The job's transition is asked for while the on-enter pipeline that enqueued it is held open.
    await until(() => requested.includes('j-4') && gate('handed').entered === 1)
    gate('handed').open()
    await expect(handed).resolves.toMatchObject({ state: 'handed', version: 1 })
    await until(() => jobs.get('j-4').state === 'done' || app!.logs.some((l) => l.msg === 'job failed for good: moved to the dead-letter queue'))
    expect(jobs.get('j-4', { history: true }).history!.map((h) => h.to)).toEqual(['queued', 'handed', 'done'])
  })
})
