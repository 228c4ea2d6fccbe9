// The `islet` command line: finds the command, parses its options (options.ts), and only then imports the module
// that runs it. Exit status: 0 success, 1 the command failed (errors found, a test failed, the app could not start),
// 2 the command line itself is wrong (ERR_CLI_USAGE), as for most Unix tools.
import { didYouMean } from '../suggest.ts'
import { COMMANDS } from './commands.ts'
import { commandHelp, parseCommandLine, type CommandSpec } from './options.ts'

const USAGE_EXIT = 2

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length)) + 2
  return [
    'Usage: islet <command> [options]', '', 'Commands:',
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}${c.summary}`),
    '', 'Run `islet <command> --help` for a command\'s options and examples; `islet --version` for the version.',
    'Environment: LOG_LEVEL (trace…error, silent), ISLET_DATA_DIR, PORT and any variable the YAML interpolates.',
  ].join('\n')
}

/** The command `argv` names (`component test` takes two words, `registry token create` three), and the arguments after it. */
function findCommand(argv: string[]): { spec?: CommandSpec; rest: string[]; asked: string } {
  for (let words = 3; words >= 1; words--) {
    const spec = COMMANDS.find((c) => c.name === argv.slice(0, words).join(' '))
    if (spec && argv.length >= words) return { spec, rest: argv.slice(words), asked: spec.name }
  }
  return { rest: argv.slice(1), asked: argv[0] ?? '' }
}

/** How many leading words of `argv` name a group of commands (`registry token` → 2), 0 when none. */
function groupDepth(argv: string[]): number {
  let depth = 0
  while (depth < argv.length && COMMANDS.some((c) => c.name.startsWith(`${argv.slice(0, depth + 1).join(' ')} `))) depth++
  return depth
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0]
  if (first === undefined) {
    console.error(overview())
    return USAGE_EXIT
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    const { spec } = findCommand(argv.slice(1))
    console.log(spec ? commandHelp(spec) : overview())
    return 0
  }
  const { spec, rest } = findCommand(argv)
  if (!spec) {
    const depth = groupDepth(argv)
    const prefix = argv.slice(0, depth).join(' ')
    const group = depth === 0 ? [] : COMMANDS.filter((c) => c.name.startsWith(`${prefix} `))
    if (group.length > 0) {
      // `islet component` alone, `islet registry token --help`, or a mistyped subcommand.
      const sub = argv[depth]
      const wantsHelp = sub === '--help' || sub === '-h'
      const hint = sub && !wantsHelp ? didYouMean(`${prefix} ${sub}`, group.map((c) => c.name)) : undefined
      const width = Math.max(...group.map((c) => `${c.name} ${c.args}`.length)) + 2
      const text = group.map((c) => `  islet ${`${c.name} ${c.args}`.padEnd(width)}${c.summary}`).join('\n')
      if (wantsHelp) { console.log(`Usage:\n${text}`); return 0 }
      console.error(`ERR_CLI_USAGE: ${sub ? `unknown command 'islet ${prefix} ${sub}'${hint ? ` (${hint})` : ''}` : `'islet ${prefix}' needs a subcommand`}\nusage:\n${text}`)
      return USAGE_EXIT
    }
    const hint = didYouMean(first, COMMANDS.map((c) => c.name.split(' ')[0]!))
    console.error(`ERR_CLI_USAGE: unknown command '${first}'${hint ? ` (${hint})` : ''}\n\n${overview()}`)
    return USAGE_EXIT
  }
  const line = parseCommandLine(spec, rest)
  if (line.kind === 'help') {
    console.log(commandHelp(spec))
    return 0
  }
  if (line.kind === 'usage-error') {
    console.error(`ERR_CLI_USAGE: ${line.message}`)
    return USAGE_EXIT
  }
  const command = await spec.load()
  return command.default(line)
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, async (error: unknown) => {
  // Loaded here, not up front: the help and usage paths never need the sdk. Any coded error (the runtime's, the
  // registry's, a plugin's catalogue) is a failure we explain, not a defect of ours.
  const { CodedError } = await import('@islet/sdk')
  if (error instanceof CodedError) {
    console.error(`${error.code}: ${error.message}`)
    process.exitCode = error.code === 'ERR_CLI_USAGE' ? USAGE_EXIT : 1
  } else {
    // A defect of ours, not a mistake of the user's: the stack is what a bug report needs.
    console.error('ERR_INTERNAL: islet failed unexpectedly; please report this with the output below')
    console.error(error)
    process.exitCode = 1
  }
})
