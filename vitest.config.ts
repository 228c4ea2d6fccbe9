// vitest: unit tests beside the code, integration suites under test/. Forks, not threads: native addons and
// child processes behave as in production.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['{runtime,plugins,sdk,registry,examples,test}/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
