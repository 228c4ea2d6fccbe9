// The `islet` command line: run, validate, schema.
import { IsletError, messageOf } from '../errors.ts'
import { runCommand } from './run.ts'
import { validateCommand } from './validate.ts'
import { schemaCommand } from './schema.ts'
import { componentCommand } from './component.ts'

const USAGE = `Usage: islet <command> [options]

Commands:
  run [app.yaml]            start the application (default file: app.yaml)
      --data-dir <dir>      where modules keep durable state (default: $ISLET_DATA_DIR or ./data)
      --watch               reload components and the YAML as they change
  dev [app.yaml]            run --watch, printing one line per reload
  validate <files…>         check config files; exit 1 on errors
      --format text|json    output format (default: text)
      --data-dir <dir>      the data directory database files must stay in (default: as for run)
  schema                    print the JSON Schema of the config language (engine + every registered type)
      --out <file>          write it to a file instead
  component test <file>     run a component's examples in the real sandbox; exit 1 on any failure
      --kv --emit <topic> --secret <NAME> --fetch <origin> --config <json>   grants (default: log only)
  component new <name>      scaffold components/<name>.ts with an example
      --dir <dir>           where to create it (default: components)

Environment: LOG_LEVEL (trace…error, silent), PORT and any variable the YAML interpolates.`

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand, dev: (args) => runCommand([...args, '--dev']), validate: validateCommand, schema: schemaCommand, component: componentCommand,
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(USAGE)
    return name === undefined ? 1 : 0
  }
  const command = COMMANDS[name]
  if (!command) {
    console.error(`ERR_CLI_USAGE: unknown command '${name}'\n\n${USAGE}`)
    return 1
  }
  return command(rest)
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (error) => {
  const code = error instanceof IsletError ? error.code : 'ERR_INTERNAL'
  console.error(`${code}: ${messageOf(error)}`)
  if (!(error instanceof IsletError)) console.error(error)
  process.exitCode = 1
})
