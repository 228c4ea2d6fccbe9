// vitest: unit tests beside the code, integration suites under test/. Forks, not threads: native addons and
// child processes behave as in production.
//
// Speed: a fresh worker per file costs ~0.6 s of start and imports, so files share workers (`isolate: false`)
// unless they replace a module (vi.mock) or patch a global for their whole run: those run isolated. vitest's
// default is one worker fewer than the cores (one, on two cores); most of a test's time here is spent waiting on
// child processes, sockets and deadlines, so two workers at least.
import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

const ALL = ['{runtime,plugins,sdk,registry,examples,test}/**/*.test.ts']
/** Files that must not share a worker: module mocks (vi.mock), globals patched for the file's whole run. */
const ISOLATED = [
  'runtime/components/compile-cache.test.ts', // vi.mock('esbuild')
  'test/hostile/capabilities.test.ts', // patches net.Socket.prototype.connect
]

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Only a hang should ever reach these: every test waits for conditions, never for a time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'shared', include: ALL, exclude: ISOLATED, isolate: false } },
      { extends: true, test: { name: 'isolated', include: ISOLATED, isolate: true } },
    ],
  },
})
