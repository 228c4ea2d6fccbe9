// Clean-ups that must run however a benchmark ends: normally, on an uncaught error, or on Ctrl-C / SIGTERM. The
// servers it starts (redis-server, a detached `islet run` group) would otherwise outlive it and hold their ports.
const cleanups = new Set<() => void>()
let hooked = false

function runAll(): void {
  for (const fn of [...cleanups]) {
    cleanups.delete(fn)
    try { fn() } catch { /* best effort: the rest still run */ }
  }
}

/** Registers `fn`; the returned function unregisters it (call it once the thing was cleaned up normally). */
export function onExit(fn: () => void): () => void {
  if (!hooked) {
    hooked = true
    process.once('exit', runAll)
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { runAll(); process.exit(130) })
  }
  cleanups.add(fn)
  return () => { cleanups.delete(fn) }
}
