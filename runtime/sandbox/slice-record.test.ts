import { describe, expect, it } from 'vitest'
import { createSliceFile, openSliceRecorder } from './slice-record.ts'

describe('the slice record', () => {
  it('names the running call of a component whose name is as long as a file name can be', () => {
    const file = createSliceFile()
    try {
      const recorder = openSliceRecorder(file.fd as number)
      // A component named after its file (up to 255 bytes on Linux), at a late generation, under a large call id.
      const key = `${'a'.repeat(255)}@123456`
      recorder.begin(9_007_199_254, 30_000, key)
      expect(file.read()).toMatchObject({ running: { id: 9_007_199_254, timeoutMs: 30_000, key }, maxBegun: 9_007_199_254 })
      recorder.restore(undefined)
    } finally {
      file.close()
    }
  })

  it('reads as unknown (no one blamed, nothing retried) rather than as "nothing began" when it cannot be read', () => {
    const file = createSliceFile()
    file.close()
    expect(file.read()).toEqual({ maxBegun: Number.MAX_SAFE_INTEGER })
  })
})
