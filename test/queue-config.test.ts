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
})
