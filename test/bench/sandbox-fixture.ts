// Builds the sandbox pieces by hand for the benchmarks (as runtime/cli/component.ts does): a compiled bundle, a bare
// sandbox, a component host over declarations, and the raw isolated-vm floor process.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ComponentDecl, Limits } from '../../runtime/config/types.ts'
import { compileComponent } from '../../runtime/components/compile.ts'
import { createComponentHost, type ComponentHost } from '../../runtime/components/host.ts'
import { createEventBus } from '../../runtime/events/bus.ts'
import { silentLogger } from '../../runtime/log/logger.ts'
import { createSandbox, type Sandbox } from '../../runtime/sandbox/supervisor.ts'

export const QUOTE_COMPONENT = fileURLToPath(new URL('./quote-component.ts', import.meta.url))
export const QUOTE_INPUT = { sku: 'A-100', qty: 3 }
export const LIMITS = { timeoutMs: 1000, cpuMs: 500, hostCalls: 100, outputBytes: 1_048_576 }

/** The compiled quote component, and distinct variants of it: `variant(i)` differs only in its name. */
export async function quoteBundle(): Promise<{ code: string; variant(i: number): string }> {
  const { code } = await compileComponent(QUOTE_COMPONENT)
  const marker = 'name: "quote-component"'
  if (!code.includes(marker)) throw new Error('the quote bundle no longer holds its name literal; update sandbox-fixture.ts')
  return { code, variant: (i) => code.replace(marker, `name: "idle-${i}"`) }
}

/** A bare sandbox with one worker; guests get no capabilities. */
export async function startSandbox(): Promise<Sandbox> {
  const sandbox = createSandbox({
    workers: 1, logger: silentLogger(),
    onHostCall: () => Promise.reject(new Error('no capabilities in benchmarks')),
    onLog: () => {},
  })
  await sandbox.start()
  return sandbox
}

/** A started component host over files, one worker, no quarantine (benchmarks breach limits on purpose). */
export async function startHost(files: { file: string; limits?: Limits }[]): Promise<{ host: ComponentHost; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'islet-bench-host-'))
  const components = files.map(({ file, limits }): ComponentDecl => {
    const at = { file, line: 1, col: 1 }
    const name = file.replace(/^.*\//, '').replace(/\.ts$/, '')
    return { name, file, limits: limits ?? {}, config: undefined, source: at, configSource: at, grants: { kv: false, emit: [], secrets: [] } }
  })
  const host = createComponentHost({
    components, logger: silentLogger(), dataDir, bus: createEventBus(),
    sandbox: { workers: 1, limits: {}, quarantine: { breaches: 1_000_000, windowMs: 1, baseMs: 1, maxMs: 1 } },
  })
  await host.start()
  return { host, close: async () => { await host.stop(); rmSync(dataDir, { recursive: true, force: true }) } }
}

/** Runs ivm-floor.ts in a child process with the worker's flags; resolves with the JSON it prints. */
export async function runFloor<T>(mode: 'cold' | 'memory' | 'timeout', codes: string[], count: number, input: unknown = QUOTE_INPUT): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'islet-bench-floor-'))
  const file = join(dir, 'codes.json')
  writeFileSync(file, JSON.stringify({ codes, input: JSON.stringify(input) }))
  const script = fileURLToPath(new URL('./ivm-floor.ts', import.meta.url))
  try {
    const child = spawn(process.execPath, ['--no-node-snapshot', script, mode, file, String(count)], { stdio: ['ignore', 'pipe', 'inherit'], env: {} })
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    if (code !== 0) throw new Error(`ivm-floor.ts ${mode} exited with ${code}`)
    return JSON.parse(out) as T
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
