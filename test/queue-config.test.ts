// Bad queue config is refused when the config loads, each problem at its file:line:col with a way to fix it: an
// enqueue step naming no queue (or a module that is not one), a consumer pipeline that does not exist or reads a
// variable queue runs do not have, values out of range.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../runtime/config/load.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { writeFiles } from './support/files.ts'

async function diagnose(yaml: string) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': yaml })
  try {
    const { diagnostics } = await loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: process.env })
    return diagnostics.filter((d) => d.severity === 'error').map((d) => ({ at: `${d.line}:${d.col}`, code: d.code, message: d.message, hint: d.hint ?? '' }))
  } finally { cleanup() }
}

const base = (queue: string, pipelines: string) => `apiVersion: islet/v1
modules:
  - name: db
    type: storage.sqlite
    config: { file: app.db }
  - name: work
    type: queue.sqlite
    config:
${queue}
pipelines:
${pipelines}`

describe('queue config errors', () => {
  it('an enqueue step naming an unknown queue, or a module that is no queue', async () => {
    const found = await diagnose(base('      consumer: { pipeline: process }', `  process:
    steps:
      - type: log
        config: { message: hi }
  submit:
    steps:
      - type: enqueue
        config: { queue: wrok, payload: 1 }
      - type: enqueue
        config: { queue: db, payload: 1 }
`))
    expect(found).toHaveLength(2)
    expect(found[0]).toMatchObject({ at: '18:26' })
    expect(found[0]!.message + found[0]!.hint).toContain('work')
    expect(found[1]).toMatchObject({ at: '20:26' })
    expect(found[1]!.message).toContain('queue.jobs')
  })

  it('a consumer pipeline that does not exist, or reads a variable a queue run lacks; values out of range', async () => {
    const found = await diagnose(base(`      consumer:
        pipeline: proces
        concurrency: 0
        visibilityTimeout: 30 seconds`, `  process:
    steps:
      - type: log
        config: { message: '\${{ body.id }}' }
`))
    const at = (line: number) => found.filter((d) => d.at.startsWith(`${line}:`))
    expect(at(10)[0]!.message + at(10)[0]!.hint).toContain('process')
    expect(at(11)).toHaveLength(1)
    expect(at(11)[0]!.message).toMatch(/minimum|>= 1|at least 1/)
    expect(at(12)).toHaveLength(1)
    const job = await diagnose(base('      consumer: { pipeline: process }', `  process:
    steps:
      - type: log
        config: { message: '\${{ body.id }} \${{ job.atempt }}' }
`))
    expect(job.map((d) => d.at)).toEqual(['14:33', '14:52'])
    expect(job.map((d) => d.message).join('\n')).toContain("trigger 'queue'")
    expect(job.map((d) => d.message + d.hint).join('\n')).toContain('attempt')
  })

  it('durations that set timers are bounded, as ms or text: what a Node timer holds, stopGrace below the engine\'s stop deadline', async () => {
    const pipelines = `  process:
    steps:
      - type: log
        config: { message: hi }
`
    // In ms, the schema bounds them.
    const schema = await diagnose(base(`      pollInterval: 3000000000
      consumer: { pipeline: process, stopGrace: 20000 }`, pipelines))
    expect(schema.map((d) => d.at.split(':')[0])).toEqual(['9', '10'])
    expect(schema[0]!.message).toMatch(/2147483647/)
    expect(schema[1]!.message).toMatch(/10000/)
    // As text, the module type's check does, each at its line.
    const found = await diagnose(base(`      consumer:
        pipeline: process
        timeout: 30d
        stopGrace: 20s
        visibilityTimeout: 50ms
        retries: { maxDelay: 25d }`, pipelines))
    expect(found.map((d) => d.at.split(':')[0])).toEqual(['11', '12', '13', '14'])
    expect(found[0]).toMatchObject({ message: 'timeout is 30d (2592000000 ms); it must be at most 2147483647 ms (about 24.9 days)', hint: 'give 24d or less' })
    expect(found[1]).toMatchObject({ message: 'stopGrace is 20s (20000 ms); it must be at most 10000 ms (10 s)', hint: 'give 10s or less' })
    expect(found[2]!.message).toContain('at least 100 ms')
    expect(found[3]!.message).toContain('maxDelay is 25d')
    expect(await diagnose(base(`      pollInterval: 24d
      consumer: { pipeline: process, timeout: 2147483647, stopGrace: 10s, retries: { maxDelay: 24d } }`, pipelines))).toEqual([])
  })
})
