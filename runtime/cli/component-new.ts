// `islet component new <name>` scaffolds a component with examples that pass.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'

const NAME = /^[a-z][a-z0-9-]*$/

export default async function componentNew({ values, positionals }: ParsedOptions): Promise<number> {
  const name = positionals[0]!
  if (!NAME.test(name)) {
    throw new IsletError('ERR_CLI_USAGE', `usage: islet component new <name> [--dir components]; the name is lower-case words joined by '-', e.g. price-quote`)
  }
  const file = resolve(values.dir as string, `${name}.ts`)
  if (existsSync(file)) throw new IsletError('ERR_CLI_USAGE', `${relative(process.cwd(), file)} already exists; pick another name`)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, scaffold(name))
  console.log(`created ${relative(process.cwd(), file)}\n\nnext:\n  ${isletCommand()} component test ${relative(process.cwd(), file)}\n  add it to your app:  components: [{ file: ./${relative(process.cwd(), file)} }]`)
  return 0
}

function scaffold(name: string): string {
  return `// ${name}: describe what this component does in one line.
import { defineComponent } from '@islet/sdk'

interface Input { name: string }
interface Output { greeting: string }

export default defineComponent<unknown, Input, Output>({
  name: '${name}',
  input: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
  output: { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } },
  examples: [
    { name: 'greets', input: { name: 'Ada' }, output: { greeting: 'Hello, Ada!' } },
    { name: 'rejects an empty name', input: { name: '' }, error: 'ERR_COMPONENT_INPUT_INVALID' },
  ],
  async execute(input, ctx) {
    ctx.log.info('greeting', { name: input.name })
    return { greeting: \`Hello, \${input.name}!\` }
  },
})
`
}

/** How to run this islet from the current folder: an app folder outside the project has no node_modules/.bin/islet. */
function isletCommand(): string {
  const own = fileURLToPath(new URL('../../node_modules/.bin/islet', import.meta.url))
  if (!existsSync(own)) return 'npx islet'   // installed as a dependency: its .bin is the app's
  const shown = relative(process.cwd(), own)
  // From a folder outside the project, `../../work/islet/node_modules/.bin/islet` is a puzzle: the absolute path reads.
  if (shown.startsWith('..')) return own
  return `./${shown}`
}
