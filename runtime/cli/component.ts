// `islet component test <file>` runs a component's examples in the real sandbox, on a throwaway isolate with
// throwaway capabilities (as every reload's smoke test does), printing each outcome and what it emitted;
// `islet component new <name>` scaffolds one.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { codeOf, IsletError, messageOf } from '../errors.ts'
import type { ComponentDecl } from '../config/types.ts'
import { createComponentHost } from '../components/host.ts'
import { show, type ExampleEmit } from '../components/examples.ts'
import { createEventBus } from '../events/bus.ts'
import { CAPABILITY_FLAGS, CAPABILITY_USAGE, grantsFromFlags } from '../sandbox/capabilities/flags.ts'
import { createLogger } from '../log/logger.ts'
import { parseOptions } from './options.ts'

const NAME = /^[a-z][a-z0-9-]*$/

export async function componentCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'test') return testComponent(rest)
  if (sub === 'new') return newComponent(rest)
  throw new IsletError('ERR_CLI_USAGE', `usage: islet component test <file> | islet component new <name>${sub ? ` (unknown '${sub}')` : ''}`)
}

async function testComponent(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args, allowPositionals: true,
    options: {
      ...CAPABILITY_FLAGS,
      config: { type: 'string', default: '{}' },
    },
  })
  if (positionals.length !== 1) throw new IsletError('ERR_CLI_USAGE', `usage: islet component test <file> ${CAPABILITY_USAGE} [--config json]`)
  const file = resolve(positionals[0])
  if (!existsSync(file)) throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', `no component file '${positionals[0]}'`)
  let config: unknown
  try { config = JSON.parse(values.config) } catch (error) { throw new IsletError('ERR_CLI_USAGE', `--config is not JSON: ${messageOf(error)}`) }
  const name = basename(file).replace(/\.(m?[jt]s)$/, '') === 'index' ? basename(dirname(file)) : basename(file).replace(/\.(m?[jt]s)$/, '')
  const at = { file, line: 1, col: 1 }
  const decl: ComponentDecl = {
    name: NAME.test(name) ? name : 'component', file, limits: {}, config, source: at, configSource: at,
    grants: grantsFromFlags(values),
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'islet-component-test-'))
  const host = createComponentHost({
    components: [decl], logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }), dataDir, bus: createEventBus(), baseDir: process.cwd(), examplesAtStart: false,
    sandbox: { workers: 1, limits: {}, quarantine: { breaches: 1_000_000, windowMs: 1, baseMs: 1, maxMs: 1 } },
  })
  // Whatever the component does, this command ends: a last-resort timer kills it (workers die with it).
  const guard = setTimeout(() => { console.error('ERR_SANDBOX_TIMEOUT: the component test did not finish within 120 s'); process.exit(1) }, 120_000)
  guard.unref()
  try {
    try {
      await host.start()
    } catch (error) {
      console.log(`✗ ${relative(process.cwd(), file)}: ${codeOf(error, 'ERR_INTERNAL')} ${messageOf(error)}`)
      return 1
    }
    const { results, initEmits } = await host.examples(decl.name)
    if (results.length === 0) {
      console.log(`✗ ${decl.name}: no examples; add examples: [{ input, output }] to its definition`)
      return 1
    }
    printEmits('init ', initEmits)
    for (const r of results) {
      console.log(r.ok ? `✓ ${r.name} (${r.ms.toFixed(1)} ms)` : `✗ ${r.name}: ${r.reason}`)
      printEmits('', r.emits)
    }
    const failed = results.filter((r) => !r.ok).length
    console.log(`${results.length - failed} passed, ${failed} failed`)
    return failed === 0 ? 0 : 1
  } finally {
    clearTimeout(guard)
    await host.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Emits are captured, never published: shown under the example that made them. */
function printEmits(who: string, emits: readonly ExampleEmit[]): void {
  for (const e of emits) console.log(`    ${who}emitted ${e.topic} ${show(e.payload)}`)
}

async function newComponent(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ args, allowPositionals: true, options: { dir: { type: 'string', default: 'components' } } })
  const name = positionals[0]
  if (positionals.length !== 1 || !NAME.test(name)) {
    throw new IsletError('ERR_CLI_USAGE', `usage: islet component new <name> [--dir components]; the name is lower-case words joined by '-', e.g. price-quote`)
  }
  const file = resolve(values.dir, `${name}.ts`)
  if (existsSync(file)) throw new IsletError('ERR_CLI_USAGE', `${relative(process.cwd(), file)} already exists; pick another name`)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, scaffold(name))
  console.log(`created ${relative(process.cwd(), file)}\n\nnext:\n  npx islet component test ${relative(process.cwd(), file)}\n  add it to your app:  components: [{ file: ./${relative(process.cwd(), file)} }]`)
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
