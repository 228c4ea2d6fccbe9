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
/** `--yes` where a command never asks: accepted, so a script can pass it to every plugin command (add needs it). */
const NEVER_ASKS: OptionSpec = { type: 'boolean', short: 'y', default: false, help: 'accepted for scripts; this command never asks' }
const PLUGIN_DATA_DIR: OptionSpec = { ...DATA_DIR, help: 'the data directory: its registry/ is the embedded registry, its plugins/ the tarball cache (default: $ISLET_DATA_DIR, else ./data)' }
const REGISTRY_DIR: OptionSpec = { type: 'string', value: 'dir', help: 'the registry folder (registry.db, tarballs/, keys/); default: the embedded registry, <data dir>/registry' }
const JSON_DATA: OptionSpec = { ...FORMAT, help: 'json: the same data as one JSON object' }
/** The options every `islet registry …` command shares. */
const REGISTRY_OPTIONS = { dir: REGISTRY_DIR, 'data-dir': PLUGIN_DATA_DIR, format: JSON_DATA }
const FROZEN_LOCKFILE: OptionSpec = { type: 'boolean', default: false, help: 'load registry plugins exactly as islet.lock pins them: any drift from plugins: is an error, the lock is never written' }

/** The options every `islet apikey …` command shares: which app, which auth.apikey module, which data directory. */
const APIKEY_OPTIONS = {
  app: { type: 'string', value: 'file', help: 'the app whose auth.apikey module holds the keys (default: app.yaml)' },
  module: { type: 'string', value: 'name', help: 'the auth.apikey module, when the app has several' },
  'data-dir': { ...DATA_DIR, help: 'the data directory the store lives in, as for run (default: $ISLET_DATA_DIR, else ./data)' },
  format: JSON_DATA,
} satisfies Record<string, OptionSpec>

/** The options every `islet queue …` command shares. */
const QUEUE_OPTIONS = {
  'data-dir': { ...DATA_DIR, help: 'the data directory whose queues.db holds the queues, as for run (default: $ISLET_DATA_DIR, else ./data)' },
  format: JSON_DATA,
} satisfies Record<string, OptionSpec>

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
    name: 'deploy', summary: "deploy component files into a running app's slot (validate, stage, promote), or roll it back", args: '<slot> [files or dirs…]',
    positionals: { min: 1, max: Infinity },
    options: {
      url: { type: 'string', value: 'url', help: "the app's server that lists the islet.admin module, e.g. http://127.0.0.1:8080 (add the admin prefix if it is not /admin)" },
      token: { type: 'string', value: 'token', help: 'a token with a deployer scope of the slot (or admin); default: $ISLET_TOKEN (prefer it: argv is visible to other users). Never printed' },
      entry: { type: 'string', value: 'path', help: 'the entry file among those sent (default: index.ts, the one file sent, or the one …/index.ts sent)' },
      message: { type: 'string', value: 'text', help: 'kept with the version (what changed, a run id…)' },
      'dry-run': { type: 'boolean', default: false, help: 'validate only: nothing is stored, nothing changes' },
      promote: { type: 'boolean', default: false, help: 'make the version live as soon as it validates' },
      rollback: { type: 'boolean', default: false, help: 'make the version that was live before the current one live again (or the one --to names); no files' },
      to: { type: 'string', value: 'n', help: 'with --rollback: the version to go back to' },
      'promote-version': { type: 'string', value: 'n', help: 'make a staged version live; no files' },
      format: { ...FORMAT, help: 'json: the DeployResult (ok, steps, diagnostics as in README "Diagnostics", version, promoted)' },
    },
    examples: [
      'ISLET_TOKEN=isk_… islet deploy pricing components/pricing/ --url http://127.0.0.1:8080 --dry-run',
      'islet deploy pricing index.ts lib/rates.ts --url http://127.0.0.1:8080 --promote --message "EUR rounding"',
      'islet deploy pricing --promote-version 4 --url http://127.0.0.1:8080',
      'islet deploy pricing --rollback --url http://127.0.0.1:8080 --format json',
    ],
    notes: 'A folder deploys its .ts/.mts/.js/.mjs/.json files under paths relative to it; a file, under its path from the current folder. ' +
      'Prints the diagnostics as `islet validate` does, then one summary line (version, hash, promoted, the steps with their ms). Exit 1 when refused.',
    load: () => import('./deploy.ts'),
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
    name: 'mcp', summary: "an MCP server on stdio for agents: describe, validate, deploy, promote, roll back, invoke slots through a running engine's admin API", args: '', positionals: { min: 0, max: 0 },
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080', value: 'url', help: "the engine's http.server (admin API at /admin), or the admin prefix itself, e.g. http://host:8080/ops; default http://127.0.0.1:8080" },
      token: { type: 'string', value: 'token', help: 'bearer token with admin or the slots\' deployer scopes (default: $ISLET_TOKEN); without one only a loopback-only engine answers' },
    },
    examples: ['islet mcp --url http://127.0.0.1:8080', 'ISLET_TOKEN=isk_… islet mcp --url https://islet.example.com'],
    notes: 'Started by an MCP client (e.g. in .mcp.json: {"mcpServers": {"islet": {"command": "npx", "args": ["islet", "mcp", "--url", "http://127.0.0.1:8080"]}}}). stdout carries only the protocol; messages go to stderr. The same tools answer over streamable HTTP at /admin/mcp.',
    load: () => import('./mcp.ts'),
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
    name: 'plugin publish', summary: "publish a plugin package to an npm-protocol registry (what npm publish sends), or the embedded one", args: '[dir]', positionals: { min: 0, max: 1 },
    options: {
      registry: { type: 'string', value: 'url', help: "the registry (default: package.json publishConfig.registry, else the npmrc's @scope:registry or registry, else the embedded registry of the data directory)" },
      'data-dir': PLUGIN_DATA_DIR,
      token: { type: 'string', value: 'token', help: "bearer token (default: $ISLET_REGISTRY_TOKEN, else the npmrc's //host/:_authToken for the registry)" },
      tag: { type: 'string', value: 'tag', help: 'the dist-tag to point at this version (default: latest)' },
      format: { ...FORMAT, help: 'json: what was published, as one object' },
    },
    examples: ['islet plugin publish   # no registry configured: into ./data/registry, the embedded one', 'islet plugin publish --registry http://127.0.0.1:4873/', 'islet plugin publish plugins/geo --tag next', 'npm publish --registry http://127.0.0.1:4873/   # the same request'],
    load: () => import('./plugin-publish.ts'),
  },
  // API keys of an app's auth.apikey module (plugins/auth): the store file, without starting the engine.
  {
    name: 'apikey create', summary: 'create an API key with scopes (printed once; the store keeps its hash)', args: '<name>', positionals: { min: 1, max: 1 },
    options: { ...APIKEY_OPTIONS, scopes: { type: 'string', value: 'a,b', help: 'the scopes it grants, comma-separated (e.g. orders:write,admin)' } },
    examples: ['islet apikey create ci --scopes deploy:pricing', 'KEY=$(islet apikey create ops --scopes admin --app app.yaml --data-dir /var/lib/orders)'],
    notes: 'Send it as Authorization: Bearer <key> or X-API-Key: <key>. The running engine accepts it at once.',
    load: async () => ({ default: (await import('./apikey.ts')).apikeyCreate }),
  },
  {
    name: 'apikey list', summary: 'the API keys: id, name, scopes, created, last used, state (never the keys)', args: '', positionals: { min: 0, max: 0 },
    options: APIKEY_OPTIONS, examples: ['islet apikey list', 'islet apikey list --format json'],
    load: async () => ({ default: (await import('./apikey.ts')).apikeyList }),
  },
  {
    name: 'apikey revoke', summary: "revoke an API key (refused from the engine's next request on)", args: '<id>', positionals: { min: 1, max: 1 },
    options: APIKEY_OPTIONS, examples: ['islet apikey revoke 3f2a9c0d1b4e5f60'],
    load: async () => ({ default: (await import('./apikey.ts')).apikeyRevoke }),
  },
  // Queues of an app's data directory (plugins/queue): <dataDir>/queues.db read and changed directly, engine running or not.
  {
    name: 'queue list', summary: 'the queues in the data directory with their waiting, delayed, running, dead and done counts', args: '', positionals: { min: 0, max: 0 },
    options: QUEUE_OPTIONS, examples: ['islet queue list', 'islet queue list --data-dir /var/lib/orders --format json'],
    load: async () => ({ default: (await import('./queue.ts')).queueList }),
  },
  {
    name: 'queue dead', summary: "a queue's dead-letter queue: the jobs that failed for good (or one, in full)", args: '<queue> [id]', positionals: { min: 1, max: 2 },
    options: { ...QUEUE_OPTIONS, limit: { type: 'string', default: '100', value: 'n', help: 'at most this many jobs (default 100)' } },
    examples: ['islet queue dead payments', 'islet queue dead payments 42 --format json'],
    load: async () => ({ default: (await import('./queue.ts')).queueDead }),
  },
  {
    name: 'queue retry', summary: 'put a dead job (or, with --all, every one) back on its queue, attempts from 1', args: '<queue> [id]', positionals: { min: 1, max: 2 },
    options: { ...QUEUE_OPTIONS, all: { type: 'boolean', default: false, help: 'every dead job of the queue' } },
    examples: ['islet queue retry payments 42', 'islet queue retry payments --all'],
    notes: 'A running engine takes the job at its next poll (the queue\'s pollInterval). The admin API does the same: POST /admin/queues/<queue>/dead/<id>/retry.',
    load: async () => ({ default: (await import('./queue.ts')).queueRetry }),
  },
  {
    name: 'queue purge', summary: 'delete a dead job (or, with --all, every one) for good', args: '<queue> [id]', positionals: { min: 1, max: 2 },
    options: { ...QUEUE_OPTIONS, all: { type: 'boolean', default: false, help: 'every dead job of the queue' } },
    examples: ['islet queue purge payments 42', 'islet queue purge payments --all'],
    load: async () => ({ default: (await import('./queue.ts')).queuePurge }),
  },
  // Registry plugins (map form of plugins:, islet.lock). The commands that resolve read the app's registries:.
  {
    name: 'plugin add', summary: "show what a registry plugin provides and requests, then add it to plugins: and islet.lock", args: '<name[@range]> [app.yaml]', positionals: { min: 1, max: 2 },
    options: {
      host: { type: 'boolean', default: false, help: "let its host code (module, step and trigger types) load in the engine: writes host: true" },
      services: { type: 'string', value: 'a,b', help: 'with --host: the engine services its host code may use (default: the ones it declares, as shown)' },
      yes: { type: 'boolean', short: 'y', default: false, help: 'do not ask; required when not on a terminal (CI, scripts)' },
      'data-dir': PLUGIN_DATA_DIR, format: { ...FORMAT, help: 'json: what it provides and what changes, as one JSON object (applied: true once written)' },
    },
    examples: ['islet plugin add @acme/geo', "islet plugin add @acme/geo@^1.2.0 examples/orders/app.yaml", 'islet plugin add @acme/audit --host --services events --yes'],
    notes: 'Without a range the entry gets ^<the version chosen>. Versions already locked stay where they still fit.',
    load: () => import('./plugin-add.ts'),
  },
  {
    name: 'plugin remove', summary: 'remove a plugin from plugins: and islet.lock (with what only it needed)', args: '<name> [app.yaml]', positionals: { min: 1, max: 2 },
    options: { 'data-dir': PLUGIN_DATA_DIR, format: JSON_DATA, yes: NEVER_ASKS },
    examples: ['islet plugin remove @acme/geo'],
    load: () => import('./plugin-remove.ts'),
  },
  {
    name: 'plugin upgrade', summary: 'lock the highest versions the ranges allow (one plugin or all)', args: '[name] [app.yaml]', positionals: { min: 0, max: 2 },
    options: { latest: { type: 'boolean', default: false, help: 'also rewrite the range to ^<newest version that works with this engine>' }, 'data-dir': PLUGIN_DATA_DIR, format: JSON_DATA, yes: NEVER_ASKS },
    examples: ['islet plugin upgrade', 'islet plugin upgrade @acme/geo', 'islet plugin upgrade @acme/geo --latest'],
    load: () => import('./plugin-upgrade.ts'),
  },
  {
    name: 'plugin list', summary: 'the locked plugins: versions, ranges, newer versions, deprecated and yanked ones', args: '[app.yaml]', positionals: { min: 0, max: 1 },
    options: { 'data-dir': PLUGIN_DATA_DIR, format: JSON_DATA },
    examples: ['islet plugin list', 'islet plugin list examples/orders/app.yaml --format json'],
    load: () => import('./plugin-list.ts'),
  },
  {
    name: 'plugin vendor', summary: 'copy the locked tarballs (verified) into islet-vendor/ so the app starts with no registry', args: '[app.yaml]', positionals: { min: 0, max: 1 },
    options: { 'data-dir': PLUGIN_DATA_DIR, format: JSON_DATA },
    examples: ['islet plugin vendor', 'islet plugin vendor examples/orders/app.yaml'],
    load: () => import('./plugin-vendor.ts'),
  },
  {
    name: 'plugin yank', summary: 'stop ranges from choosing a version (locks that hold it still install it)', args: '<name@version> [app.yaml]', positionals: { min: 1, max: 2 },
    options: {
      reason: { type: 'string', value: 'text', help: 'why, and what to use instead (required): shown to whoever resolves or lists it' },
      registry: { type: 'string', value: 'url', help: "the registry (a URL, or 'embedded'); default: the app's registries:, else embedded. The token: registries:, else $ISLET_REGISTRY_TOKEN" },
      'data-dir': PLUGIN_DATA_DIR, format: JSON_DATA,
    },
    examples: ["islet plugin yank @acme/geo@1.2.0 --reason 'leaks the API key; use 1.2.1'", 'ISLET_REGISTRY_TOKEN=… islet plugin yank @acme/geo@1.2.0 --registry http://127.0.0.1:4873/'],
    load: async () => ({ default: (await import('./plugin-yank.ts')).pluginYank }),
  },
  {
    name: 'plugin unyank', summary: 'let ranges choose a yanked version again', args: '<name@version> [app.yaml]', positionals: { min: 1, max: 2 },
    options: {
      registry: { type: 'string', value: 'url', help: "the registry (a URL, or 'embedded'); default: the app's registries:, else embedded. The token: registries:, else $ISLET_REGISTRY_TOKEN" },
      'data-dir': PLUGIN_DATA_DIR, format: JSON_DATA,
    },
    examples: ['islet plugin unyank @acme/geo@1.2.0'],
    load: async () => ({ default: (await import('./plugin-yank.ts')).pluginUnyank }),
  },
  {
    name: 'registry serve', summary: 'serve a plugin registry (npm protocol) over HTTP', args: '', positionals: { min: 0, max: 0 },
    options: {
      ...REGISTRY_OPTIONS,
      port: { type: 'string', default: '4873', value: 'n', help: 'the port (0: any free one); default 4873' },
      host: { type: 'string', default: '127.0.0.1', value: 'address', help: 'the address to listen on; default 127.0.0.1 (loopback only)' },
    },
    examples: ['islet registry serve', 'islet registry serve --dir /var/lib/islet-registry --port 4873 --host 0.0.0.0'],
    notes: 'Published components are compiled with the engine\'s compiler; a package whose components do not compile is refused with file:line:col inside it. SIGINT/SIGTERM stop it.',
    load: () => import('./registry-serve.ts'),
  },
  {
    name: 'registry user add', summary: 'add a user who may publish (password from stdin or $ISLET_REGISTRY_PASSWORD)', args: '<name>', positionals: { min: 1, max: 1 },
    options: REGISTRY_OPTIONS,
    examples: ['printf %s "$PASSWORD" | islet registry user add alice', 'ISLET_REGISTRY_PASSWORD=… islet registry user add alice --dir /var/lib/islet-registry'],
    load: () => import('./registry-user.ts'),
  },
  {
    name: 'registry token create', summary: 'issue a publish token for a user and package scopes (printed once)', args: '', positionals: { min: 0, max: 0 },
    options: {
      ...REGISTRY_OPTIONS,
      user: { type: 'string', value: 'name', help: 'the user it publishes as (required)' },
      scope: { type: 'string', multiple: true, default: [], value: 'pattern', help: "packages it may publish: '@acme/*', @acme/geo, or '*' (required; repeatable)" },
      expires: { type: 'string', default: '30d', value: 'duration', help: 'lifetime: 12h, 30d, 8w, 1y, …; default 30d' },
    },
    examples: ["islet registry token create --user alice --scope '@acme/*'", "TOKEN=$(islet registry token create --user ci --scope @acme/geo --expires 7d)"],
    load: async () => ({ default: (await import('./registry-token.ts')).tokenCreate }),
  },
  {
    name: 'registry token revoke', summary: 'revoke a token (refused from the next request on)', args: '<id>', positionals: { min: 1, max: 1 },
    options: REGISTRY_OPTIONS,
    examples: ['islet registry token revoke 3f2a…'],
    load: async () => ({ default: (await import('./registry-token.ts')).tokenRevoke }),
  },
  {
    name: 'registry token list', summary: 'the tokens: id, user, scopes, expiry, state', args: '', positionals: { min: 0, max: 0 },
    options: REGISTRY_OPTIONS,
    examples: ['islet registry token list', 'islet registry token list --format json'],
    load: async () => ({ default: (await import('./registry-token.ts')).tokenList }),
  },
]
