// Sandbox workers run their code as one JavaScript file built from worker.ts (types stripped once, by the engine),
// not as .ts modules that would load Node's type stripper into every worker process.
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { compileComponent } from '../runtime/components/compile.ts'
import { silentLogger } from '../runtime/log/logger.ts'
import { createSandbox } from '../runtime/sandbox/supervisor.ts'
import { workerBundle } from '../runtime/sandbox/worker-bundle.ts'
import { workerReadPaths } from '../runtime/sandbox/worker-process.ts'
import { writeFiles } from './support/files.ts'

const { dir, cleanup } = writeFiles({
  'double.ts': `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'double', execute(input: { n: number }) { return { n: input.n * 2 } } })
`,
})
const sandbox = createSandbox({ workers: 1, logger: silentLogger(), onHostCall: async () => null, onLog() {} })
afterAll(async () => { await sandbox.stop(); cleanup() })

describe('the sandbox worker bundle', () => {
  it('is plain JavaScript in the cache folder, built from worker.ts and the sdk, and is all a worker may read of our code besides the sandbox folder', () => {
    const bundle = workerBundle()
    expect(bundle).toMatch(/node_modules\/\.cache\/islet\/worker\/worker-[0-9a-f]{20}\.mjs$/)
    const inputs = readFileSync(bundle!.replace(/worker-[0-9a-f]+\.mjs$/, 'inputs.txt'), 'utf8').split('\n')
    expect(inputs).toContain('runtime/sandbox/worker.ts')
    expect(inputs).toContain('sdk/index.ts')
    expect(readFileSync(bundle!, 'utf8')).not.toMatch(/^import type /m)
    expect(workerReadPaths()).toContain(bundle)
  })

  it('is what the real workers run, and they serve from it', async () => {
    const { code } = await compileComponent(`${dir}/double.ts`)
    await sandbox.load({ key: 'double@1', name: 'double', generation: 1, code, memoryMb: 32, loadTimeoutMs: 5000, config: {} })
    expect(await sandbox.invoke('double@1', 'execute', '{"n":21}', { timeoutMs: 2000, cpuMs: 1000, hostCalls: 1, outputBytes: 1024 })).toBe('{"n":42}')
    const [worker] = await sandbox.stats()
    const argv = readFileSync(`/proc/${worker!.pid}/cmdline`, 'utf8').split('\0')
    expect(argv).toContain(workerBundle())
    expect(argv.some((a) => a.endsWith('worker.ts'))).toBe(false)
  })
})
