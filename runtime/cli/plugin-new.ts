// `islet plugin new <name>` scaffolds a plugin package that works as created: package.json with its `islet` field,
// a sandboxed component whose examples pass, host code when asked (`--host`: plain JavaScript, because Node strips no
// TypeScript under node_modules, where npm installs packages), an example app that validates, and a README saying
// how to test, pack and publish it. `npm test` in the new folder runs the component's examples and validates the
// example app with the `islet` command, nothing else to install.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { delimiter, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packageNameProblem } from '../../registry/package-name.ts'
import { IsletError } from '../errors.ts'
import { ENGINE_VERSION } from '../version.ts'
import type { ParsedOptions } from './options.ts'

export default async function pluginNew({ values, positionals }: ParsedOptions): Promise<number> {
  const name = positionals[0]!
  const problem = packageNameProblem(name)
  if (problem !== undefined) {
    throw new IsletError('ERR_CLI_USAGE', `'${name}' is not an npm package name: ${problem}; use lower-case letters, digits, '-', '.', '_', optionally under a scope, e.g. @acme/geo or islet-geo`)
  }
  const short = name.split('/').at(-1)!
  // A component's name (and the prefix of host types) is lower-case words joined by '-'.
  const component = short.replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '') || 'component'
  const dir = resolve((values.dir as string | undefined) ?? short)
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new IsletError('ERR_CLI_USAGE', `${relative(process.cwd(), dir) || '.'} is not empty; pick another --dir (or remove it)`)
  }
  const host = values.host === true
  const files = scaffold({ name, component, host, engine: `^${ENGINE_VERSION}` })
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  const shown = relative(process.cwd(), dir) || '.'
  const path = pathLine()
  console.log(`created ${name} in ${shown}:\n${Object.keys(files).sort().map((f) => `  ${f}`).join('\n')}\n\nnext:\n${path ? `  ${path}\n` : ''}  cd ${shown}\n  npm test                 # the component's examples and the example app\n  islet plugin pack        # the tarball, its integrity and files\n  islet plugin publish     # into the embedded registry of ./data (--data-dir: your app's), or --registry <url>`)
  return 0
}

/**
 * `export PATH=…` when no `islet` is on the PATH: the scaffold's `npm test` script (and the commands shown) call
 * `islet` by name, and npm adds only the new package's own node_modules/.bin, which has none. Run as
 * ./node_modules/.bin/islet from the project, as README's "Set up" says, islet is not on the PATH.
 */
function pathLine(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && isExecutable(join(d, 'islet')))
  if (onPath) return undefined
  const bin = fileURLToPath(new URL('../../node_modules/.bin', import.meta.url))
  return `export PATH=${existsSync(join(bin, 'islet')) ? bin : '<the folder with the islet command>'}:$PATH   # npm test and these commands run islet from the PATH`
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

interface Scaffold { name: string; component: string; host: boolean; engine: string }

function scaffold(s: Scaffold): Record<string, string> {
  const files: Record<string, string> = {
    'package.json': packageJson(s),
    [`components/${s.component}.ts`]: componentSource(s),
    'app.yaml': exampleApp(s),
    'README.md': readme(s),
    '.gitignore': 'node_modules/\ndata/\n*.tgz\n',
  }
  if (s.host) files['host.js'] = hostSource(s)
  return files
}

function packageJson(s: Scaffold): string {
  const pkg = {
    name: s.name,
    version: '0.1.0',
    description: `An Islet plugin: the ${s.component} component${s.host ? ` and the ${s.component}.shout step` : ''}.`,
    type: 'module',
    // What is published: the example app, the README's drafts and tests stay out (npm always adds README and LICENSE).
    files: ['components', ...(s.host ? ['host.js'] : [])],
    ...(s.host ? { exports: { '.': './host.js' } } : {}),
    scripts: { test: `islet component test components --kv && islet validate app.yaml` },
    // The engine provides @islet/sdk to every plugin it loads; optional, so `npm install` never fetches it.
    peerDependencies: { '@islet/sdk': s.engine },
    peerDependenciesMeta: { '@islet/sdk': { optional: true } },
    islet: {
      engine: s.engine,
      ...(s.host ? { host: './host.js', services: [] } : {}),
      components: {
        [s.component]: { file: `components/${s.component}.ts`, description: 'Greets someone and counts their visits', capabilities: { kv: true } },
      },
    },
  }
  return `${JSON.stringify(pkg, null, 2)}\n`
}

function componentSource(s: Scaffold): string {
  return `// ${s.component}: greets someone and counts their visits in the component's kv store (the one capability the
// package declares for it in package.json: an app must grant it, \`grants: { kv: true }\`).
import { defineComponent } from '@islet/sdk'

interface Input { name: string }
interface Output { greeting: string; visits: number }

export default defineComponent<unknown, Input, Output>({
  name: '${s.component}',
  input: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } },
  output: { type: 'object', required: ['greeting', 'visits'], properties: { greeting: { type: 'string' }, visits: { type: 'integer' } } },
  examples: [
    { name: 'greets a first visit', input: { name: 'Ada' }, output: { greeting: 'Hello, Ada!', visits: 1 } },
    { name: 'counts visits', kv: { 'visits:Ada': 2 }, input: { name: 'Ada' }, output: { greeting: 'Hello again, Ada!', visits: 3 } },
    { name: 'rejects an empty name', input: { name: '' }, error: 'ERR_COMPONENT_INPUT_INVALID' },
  ],
  async execute(input, ctx) {
    const visits = await ctx.kv.increment(\`visits:\${input.name}\`)
    ctx.log.info('greeting', { name: input.name, visits })
    return { greeting: visits === 1 ? \`Hello, \${input.name}!\` : \`Hello again, \${input.name}!\`, visits }
  },
})
`
}

function hostSource(s: Scaffold): string {
  return `// Host code: it runs in the engine process with the engine's rights, so an app loads it only when its plugins:
// entry says so (host: true). Plain JavaScript on purpose: npm installs plugins under node_modules, where Node strips
// no TypeScript types. Add module types, step types and triggers here; list the engine services they use in
// definePlugin({ services }) and in package.json's islet.services.
import { definePlugin, defineStepType } from '@islet/sdk'

/** \`${s.component}.shout\`: upper-cases a text, e.g. config: { text: '\${{ steps.hello.greeting }}' }. */
const shout = defineStepType({
  type: '${s.component}.shout',
  description: 'Upper-cases \`text\` (a template) and outputs { text }',
  configSchema: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string' } } },
  create(config, ctx) {
    const text = ctx.compile(config.text)
    return (run) => ({ text: String(text(run)).toUpperCase() })
  },
})

export default definePlugin({ name: '${s.name}', version: '0.1.0', islet: '${s.engine}', stepTypes: [shout] })
`
}

function exampleApp(s: Scaffold): string {
  const steps = s.host
    ? `      - name: loud
        type: ${s.component}.shout
        config: { text: '\${{ steps.hello.greeting }}' }
      - type: respond
        config:
          body: { greeting: '\${{ steps.loud.text }}', visits: '\${{ steps.hello.visits }}' }`
    : `      - type: respond
        config:
          body: \${{ steps.hello }}`
  return `# An example app using this plugin from its own folder (it is not published: package.json "files" leaves it out).
#   islet run app.yaml
#   curl -X POST localhost:8080/greet -H 'content-type: application/json' -d '{"name":"Ada"}'
# An app elsewhere takes the published package by range instead (see README.md).
apiVersion: islet/v1
${s.host ? `plugins:
  - ./host.js                 # the host code, by path (from the registry: host: true in the app's plugins: entry)

` : ''}components:
  - file: ./components/${s.component}.ts
    grants:
      kv: true                # what package.json declares the component needs

modules:
  - name: api
    type: http.router
    config:
      routes:
        - { method: POST, path: /greet, pipeline: greet }

  - name: web
    type: http.server
    config:
      port: \${PORT:-8080}
      routers: [api]

pipelines:
  greet:
    steps:
      - name: hello
        type: component
        config:
          component: ${s.component}
          input: { name: '\${{ body.name }}' }
${steps}
`
}

function readme(s: Scaffold): string {
  return `# ${s.name}

An Islet plugin. It provides the sandboxed component \`${s.component}\` (it greets someone and
counts their visits; it needs the \`kv\` capability)${s.host ? ` and, as host code, the step type \`${s.component}.shout\`` : ''}.

## Develop

    npm test                       # islet component test components --kv && islet validate app.yaml
    islet run app.yaml             # the example app, using the plugin from this folder

## Publish

    islet plugin pack              # the tarball: name@version, integrity, files (same files → same bytes)
    islet plugin publish           # into the embedded registry of ./data; --data-dir <your app's data dir> to add it there
    islet plugin publish --registry http://127.0.0.1:4873/
    npm publish --registry http://127.0.0.1:4873/    # the same, with npm's own tools

\`package.json\`'s \`islet\` field says what the package provides and asks for: the engine range, the components and
the capabilities each needs${s.host ? ', the host code module and the engine services it uses' : ''}. Install scripts are refused.

## Use it in an app

\`\`\`yaml
plugins:${s.host ? `
  # it ships host code, which runs in the engine process: an app must allow it (else it is refused, components too)
  '${s.name}': { version: ^0.1.0, host: true }` : `
  '${s.name}': ^0.1.0`}
components:
  - { plugin: '${s.name}', component: ${s.component}, grants: { kv: true } }
\`\`\`
`
}
