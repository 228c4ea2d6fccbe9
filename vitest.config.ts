// vitest: unit tests beside the code, integration suites under test/. Forks, not threads: native addons and
// child processes behave as in production.
//
// Speed: a fresh worker per file costs ~0.6 s of start and imports, so files share workers (`isolate: false`)
// unless they replace a module (vi.mock) or patch a global for their whole run: those run isolated. vitest's
// default is one worker fewer than the cores (one, on two cores: the whole suite in series); much of a test's time
// here is spent waiting on child processes, sockets and deadlines, so at least three (measured on two cores, one
// kept busy: ~58 s with three, ~100 s with two, ~100 s+ with vitest's one).
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineConfig } from 'vitest/config'

const ALL = ['{runtime,plugins,sdk,registry,examples,test}/**/*.test.ts']
/** Files that must not share a worker: module mocks (vi.mock), globals patched for the file's whole run. */
const ISOLATED = [
  'runtime/components/compile-cache.test.ts', // vi.mock('esbuild')
  'test/hostile/capabilities.test.ts', // patches net.Socket.prototype.connect
  'test/typecheck-warm.test.ts', // asserts the process's type-check worker was never started
]

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: Math.max(3, availableParallelism()),
    // Only a hang should ever reach these: every test waits for conditions, never for a time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Every `islet` command and sandbox worker the tests start is a fresh Node loading the whole runtime: Node's
    // on-disk compile cache (keyed by content, so never stale) takes about a quarter off each start.
    env: { NODE_COMPILE_CACHE: join(tmpdir(), 'islet-test-compile-cache') },
    projects: [
      { extends: true, test: { name: 'shared', include: ALL, exclude: ISOLATED, isolate: false } },
      { extends: true, test: { name: 'isolated', include: ISOLATED, isolate: true } },
    ],
  },
})
