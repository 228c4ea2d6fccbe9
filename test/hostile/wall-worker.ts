// A sandbox worker taken over by its guest, for test/hostile/wall.test.ts only (spawned through the supervisor's
// test-only `testWorkerScript`): the real worker, plus what code outside the isolates could do once it escaped.
// - invoking `forger`: a host call and a log line in the name of `victim@1`, a component it was never given;
// - invoking `filler`: writing 2 MiB to the one file it holds open, its slice record (fd 4), to fill the disk;
// - invoking `closer`: closing its IPC channel and living on, so that the engine's next send to it fails;
// - invoking `garbler`: sending messages no real worker sends (null, a host-cancel whose ids are not a list);
// - invoking `leak` with `{ attack: true }`: allocating outside every isolate's limit without end (stands for any
//   future allocator bypass) inside what the slice record says is its slice, synchronously, so the real worker never answers; stops at 8 GiB so that a missing
//   ceiling fails the test instead of the machine.
import { writeSync } from 'node:fs'
import type { SupervisorMessage, WorkerMessage } from '../../runtime/sandbox/protocol.ts'
import { openSliceRecorder } from '../../runtime/sandbox/slice-record.ts'

const send = (message: WorkerMessage) => process.send!(message)

// Registered before the real worker's listener: this one runs first.
// The supervisor may send several messages as one list (supervisor.ts post).
process.on('message', (msgs: SupervisorMessage | SupervisorMessage[]) => {
  for (const msg of Array.isArray(msgs) ? msgs : [msgs]) attack(msg)
})

function attack(msg: SupervisorMessage): unknown {
  if (msg.t !== 'invoke') return
  if (msg.key.startsWith('forger@')) {
    send({ t: 'log', key: 'victim@1', lines: [{ level: 'info', message: 'forged line' }], dropped: 0 })
    send({ t: 'host-call', id: 1_000_000, invocation: msg.id, key: 'victim@1', op: 'secrets.get', args: '["token"]' })
  }
  if (msg.key.startsWith('closer@')) {
    process.removeAllListeners('disconnect') // the real worker exits on disconnect; this one lives on
    setInterval(() => {}, 1000)
    return process.disconnect()
  }
  if (msg.key.startsWith('garbler@')) {
    process.send!(null)
    return process.send!({ t: 'host-cancel', ids: 5 })
  }
  if (msg.key.startsWith('filler@')) {
    // The one writable file it holds: its slice record (fd 4). Answers how much of 2 MiB it got written.
    let written = 0
    let code: string | undefined
    try {
      for (let i = 0; i < 2; i++) written += writeSync(4, Buffer.alloc(1024 ** 2, 0x41), 0, 1024 ** 2, i * 1024 ** 2)
    } catch (error) {
      code = (error as NodeJS.ErrnoException).code
    }
    return send({ t: 'result', id: msg.id, output: JSON.stringify({ written, code }), cpuMs: 0 })
  }
  if (msg.key.startsWith('leak@') && (JSON.parse(msg.input) as { attack?: boolean }).attack) {
    // As a bypass in guest code would: inside a slice of the invocation, which the slice record names.
    openSliceRecorder().begin(msg.id, msg.limits.timeoutMs, msg.key)
    const kept: Buffer[] = []
    // 16 MiB every 20 ms: past the ceiling within a second, and 8 GiB only after ~10 s, so the engine's watchdog
    // sees the ceiling crossed long before this could stop on its own, however loaded the machine.
    const pause = new Int32Array(new SharedArrayBuffer(4))
    for (let total = 0; total < 8 * 1024 ** 3; total += 16 * 1024 ** 2) {
      kept.push(Buffer.alloc(16 * 1024 ** 2, 1))
      Atomics.wait(pause, 0, 0, 20)
    }
  }
}

await import('../../runtime/sandbox/worker.ts')
