// The log step: one line on the run's logger, at the configured level, with structured fields; outputs nothing.
import { describe, expect, it } from 'vitest'
import { loadConfig, pipelineOf, recordingLogger, requestOf } from './test-harness.ts'

async function logLines(config: object, body: unknown = { sku: 'AB', qty: 2 }) {
  const { logger, lines } = recordingLogger()
  const pipeline = await pipelineOf([{ type: 'log', name: 'note', config }])
  const response = await pipeline.run(requestOf({ body }), { logger })
  return { response, lines }
}

describe('log', () => {
  it('logs the interpolated message with the fields on the run logger, at info by default', async () => {
    const { response, lines } = await logLines({ message: 'order of ${{ body.qty }} ${{ body.sku }}', fields: { sku: '${{ body.sku }}', n: '${{ body.qty }}' } })
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'order of 2 AB', sku: 'AB', n: 2, pipeline: 'test', step: 'note' })])
    expect(response).toEqual({ status: 204, headers: {}, body: undefined })
  })

  it.each([['trace', 10], ['debug', 20], ['warn', 40], ['error', 50]])('logs at %s', async (level, number) => {
    const { lines } = await logLines({ level, message: 'x' })
    expect(lines.map((l) => l.level)).toEqual([number])
  })

  it('a message that is a lone expression yielding an object is logged as JSON text', async () => {
    const { lines } = await logLines({ message: '${{ body }}' })
    expect(lines[0]!.msg).toBe('{"sku":"AB","qty":2}')
  })

  it('config: level is one of five and defaults to info; message is required', () => {
    expect(loadConfig('log', { message: 'hi' })).toEqual({ message: 'hi', level: 'info' })
    expect(() => loadConfig('log', { message: 'hi', level: 'fatal' })).toThrow(/must be equal to one of the allowed values/)
    expect(() => loadConfig('log', { level: 'info' })).toThrow(/must have required property 'message'/)
    expect(() => loadConfig('log', { message: 'hi', fields: 'x' })).toThrow(/must be object/)
  })
})
