// The isolated-vm floor, run as a child process with the sandbox worker's flags (--no-node-snapshot): what one
// component costs with no Islet around it — no bootstrap, no IPC, no validation. Prints one JSON line.
//   cold <codes.json> <runs>   new Isolate + context + compileScript + run + one call of execute, per run (ms)
//   memory <codes.json> <n>    RSS growth per isolate holding one loaded component, idle and after one call (MB)
//   timeout <codes.json> <runs> a call that spins forever under a 50 ms timeout, until it throws; and a bare 50 ms
//                              timer (the floor of a never-settling promise) (ms)
import { readFileSync } from 'node:fs'
import ivm from 'isolated-vm'

const [mode, file, countText] = process.argv.slice(2)
const { codes, input } = JSON.parse(readFileSync(file, 'utf8')) as { codes: string[]; input: string }
const count = Number(countText)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const rssMb = () => process.memoryUsage().rss / 1048576

function load(code: string, timeout?: number) {
  const isolate = new ivm.Isolate({ memoryLimit: 64 })
  const context = isolate.createContextSync()
  const script = isolate.compileScriptSync(code, { filename: 'component:floor' })
  const definition = script.runSync(context, { reference: true }) as ivm.Reference
  const execute = definition.getSync('execute', { reference: true }) as ivm.Reference
  const call = () => execute.applySync(definition.derefInto(), [JSON.parse(input)], { arguments: { copy: true }, result: { copy: true }, timeout }) as unknown
  return { isolate, call }
}

if (mode === 'cold') {
  const samples: number[] = []
  for (let i = 0; i < count + 5; i++) {
    const started = performance.now()
    const { isolate, call } = load(codes[i % codes.length])
    const output = call() as { total: number }
    const ms = performance.now() - started
    if (output.total !== 29.97) throw new Error('the floor component computed the wrong quote')
    isolate.dispose()
    if (i >= 5) samples.push(ms) // the first runs warm up the host side
  }
  console.log(JSON.stringify({ samples }))
} else if (mode === 'timeout') {
  const loop: number[] = []
  const timer: number[] = []
  for (let i = 0; i < count + 2; i++) {
    const { isolate, call } = load(codes[0], 50)
    const started = performance.now()
    try { call() } catch { /* timed out, as intended */ }
    const ms = performance.now() - started
    isolate.dispose()
    const waited = performance.now()
    await sleep(50)
    if (i >= 2) loop.push(ms), timer.push(performance.now() - waited)
  }
  console.log(JSON.stringify({ loop, timer }))
} else {
  await sleep(500)
  const before = rssMb()
  const loaded = codes.slice(0, count).map((code) => load(code))
  await sleep(1000)
  const idle = rssMb()
  for (const l of loaded) l.call()
  await sleep(1000)
  const called = rssMb()
  console.log(JSON.stringify({ before, idle, called, n: loaded.length }))
  for (const l of loaded) l.isolate.dispose()
}
