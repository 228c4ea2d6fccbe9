// The commands of `islet`: each one's options, usage text and examples, and the module that runs it. Only this
// table and the option parser load for `--help` and for usage errors; a command's module (and what it needs:
// esbuild, Koa, isolated-vm, …) is imported when that command runs.
import type { CommandSpec, OptionSpec } from './options.ts'
import { GRANT_OPTIONS } from './grants.ts'

const FORMAT: OptionSpec = {
  type: 'string', default: 'text', choices: ['text', 'json'], value: 'text|json',
  help: 'json: machine-readable output; every problem in the diagnostic shape of README "Diagnostics"',
}
const DATA_DIR: OptionSpec = { type: 'string', value: 'dir', help: 'where modules keep durable state (default: $ISLET_DATA_DIR, else ./data)' }
const FROZEN_LOCKFILE: OptionSpec = { type: 'boolean', default: false, help: 'load registry plugins exactly as islet.lock pins them: any drift from plugins: is an error, the lock is never written' }

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run', summary: 'start the application', args: '[app.yaml]', positionals: { min: 0, max: 1 },
    options: {
      'data-dir': DATA_DIR,
      'frozen-lockfile': FROZEN_LOCKFILE,
      watch: { type: 'boolean', default: false, help: 'reload components and the YAML as they change (events go to the log)' },
      processes: { type: 'string', value: 'n|auto', help: 'serve from n engine processes (auto: one per core) sharing the ports; default 1. See README "More than one core"' },
      balance: { type: 'string', default: 'cluster', choices: ['cluster', 'reuseport'], value: 'cluster|reuseport', help: 'with --processes: the primary hands out connections (cluster), or each process listens with SO_REUSEPORT (reuseport, Linux; cheaper per new connection)' },
    },
    examples: ['islet run', 'islet run examples/orders/app.yaml --data-dir /var/lib/orders', 'PORT=9000 LOG_LEVEL=debug islet run app.yaml', 'islet run app.yaml --processes auto'],
    notes: 'SIGINT/SIGTERM drain in-flight requests and stop; a second signal forces the exit. With --processes, an engine process that dies is replaced while the others serve on.',
    load: () => import('./run-command.ts'),
  },
  {
    name: 'dev', summary: 'run and reload as files change, printing one line per event', args: '[app.yaml]', positionals: { min: 0, max: 1 },
    options: { 'data-dir': DATA_DIR, 'frozen-lockfile': FROZEN_LOCKFILE, format: { ...FORMAT, help: 'json: one JSON object per line per event, diagnostics as in README "Diagnostics"' } },
    examples: ['islet dev', 'islet dev examples/orders/app.yaml', 'islet dev app.yaml --format json | jq .type'],
    load: () => import('./dev.ts'),
  },
  {
    name: 'validate', summary: 'check config files and compile their components; exit 1 on errors', args: '[files…]', positionals: { min: 0, max: Infinity },
    options: { format: FORMAT, 'data-dir': { ...DATA_DIR, help: 'the data directory database files must stay in (default: as for run)' }, 'frozen-lockfile': FROZEN_LOCKFILE },
    examples: ['islet validate', 'islet validate examples/orders/app.yaml --format json'],
    notes: 'Without files it checks ./app.yaml, as run and dev start it. Components are compiled (syntax, imports), not run: `islet component test` runs their examples.',
    load: () => import('./validate.ts'),
  },
  {
    name: 'schema', summary: "print the JSON Schema of the config language (engine + every registered type; with an app, its plugins' types too)", args: '[app.yaml]', positionals: { min: 0, max: 1 },
    options: { out: { type: 'string', value: 'file', help: 'write it to this file instead of stdout' } },
    examples: ['islet schema > islet.schema.json', 'islet schema --out examples/islet.schema.json', 'islet schema app.yaml --out islet.schema.json   # with the app\'s plugins'],
    load: () => import('./schema.ts'),
  },
  {
    name: 'component test', summary: "run components' examples in the real sandbox; exit 1 on any failure", args: '<files or directories…>',
    positionals: { min: 1, max: Infinity },
    // The grant flags come from grants.ts, the one place that knows how a flag becomes a capability grant.
    options: {
      ...GRANT_OPTIONS,
      config: { type: 'string', default: '{}', value: 'json', help: "the config every tested component gets (JSON), checked against its config schema" },
      format: { ...FORMAT, help: 'json: one report with every example and diagnostics as in README "Diagnostics"' } },
    examples: [
      'islet component test components/greeter.ts',
      'islet component test components/            # every component in it, as a directory: entry finds them',
      "islet component test examples/orders/components/counter/index.ts --kv --emit 'orders.*'",
      'islet component test components/ --format json',
    ],
    notes: 'Grants nothing beyond log unless a flag says so; the grants apply to every component tested.',
    load: () => import('./component-test.ts'),
  },
  {
    name: 'component new', summary: 'scaffold a component with examples', args: '<name>', positionals: { min: 1, max: 1 },
    options: { dir: { type: 'string', default: 'components', value: 'dir', help: 'where to create it (default: components)' } },
    examples: ['islet component new price-quote', 'islet component new greeter --dir src/components'],
    notes: 'The name is lower-case words joined by \'-\', e.g. price-quote.',
    load: () => import('./component-new.ts'),
  },
  {
    name: 'plugin new', summary: 'scaffold a plugin package: a component, an example app, a test, a README', args: '<name>', positionals: { min: 1, max: 1 },
    options: {
      dir: { type: 'string', value: 'dir', help: "where to create it (default: the name's last part, e.g. ./geo for @acme/geo)" },
      host: { type: 'boolean', default: false, help: 'also scaffold host code (host.js: a definePlugin module with a step type)' },
    },
    examples: ['islet plugin new @acme/geo', 'islet plugin new islet-audit --host --dir plugins/audit'],
    notes: 'The name is an npm package name, optionally scoped. `npm test` in the new folder runs the examples and validates the example app.',
    load: () => import('./plugin-new.ts'),
  },
  {
    name: 'plugin pack', summary: "write a plugin package's tarball (same files → same bytes) and print its integrity and files", args: '[dir]', positionals: { min: 0, max: 1 },
    options: {
      out: { type: 'string', value: 'file|dir|-', help: "where to write the tarball: a file, a folder (npm's name for it), or - for none (default: the current folder)" },
      format: { ...FORMAT, help: 'json: name, version, integrity, shasum and the files' },
    },
    examples: ['islet plugin pack', 'islet plugin pack plugins/geo --out dist/', 'islet plugin pack --out - --format json'],
    notes: 'The files are those npm pack would take (package.json "files", .npmignore); the islet field is checked first.',
    load: () => import('./plugin-pack.ts'),
  },
  {
    name: 'plugin publish', summary: "publish a plugin package to an npm-protocol registry (what npm publish sends)", args: '[dir]', positionals: { min: 0, max: 1 },
    options: {
      registry: { type: 'string', value: 'url', help: "the registry (default: package.json publishConfig.registry, else the npmrc's @scope:registry or registry)" },
      token: { type: 'string', value: 'token', help: "bearer token (default: $ISLET_REGISTRY_TOKEN, else the npmrc's //host/:_authToken for the registry)" },
      tag: { type: 'string', value: 'tag', help: 'the dist-tag to point at this version (default: latest)' },
      format: { ...FORMAT, help: 'json: what was published, as one object' },
    },
    examples: ['islet plugin publish --registry http://127.0.0.1:4873/', 'islet plugin publish plugins/geo --tag next', 'npm publish --registry http://127.0.0.1:4873/   # the same request'],
    load: () => import('./plugin-publish.ts'),
  },
]
