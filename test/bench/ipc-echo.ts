// The IPC floor of an invocation: a child forked as the sandbox worker is (same flags, JSON serialization) that
// answers each invoke message at once with a result message of the same shape, no isolate involved.
process.on('message', (msg: { id: number }) => {
  process.send!({ t: 'result', id: msg.id, output: '{"sku":"A-100","qty":3,"total":29.97}', cpuMs: 0.01 })
})
process.on('disconnect', () => process.exit(0))
process.send!({ t: 'ready' })
