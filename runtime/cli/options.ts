// The one option parser of every command: node:util parseArgs driven by the command's spec (commands.ts), with
// `--help`/`-h` on every command, and each mistake a usage error that says what was expected (did-you-mean for
// a mistyped option, the allowed values of a choice, how many arguments the command takes). A usage error is
// returned, not thrown as an IsletError: the help and usage paths load no more than this file, commands.ts and
// main.ts, which keeps them as fast as Node's own start (main.ts prints it as ERR_CLI_USAGE).
import { parseArgs } from 'node:util'
import { didYouMean } from '../suggest.ts'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  default?: string | boolean | string[]
  /** The only values a string option accepts. */
  choices?: readonly string[]
  /** Shown in the usage: `--data-dir <dir>   <help>`. */
  value?: string
  help: string
}

export interface CommandSpec {
  /** `run`, or `component test` for a subcommand. */
  name: string
  summary: string
  /** What follows the name in the usage line, e.g. `<files…>`. */
  args: string
  positionals: { min: number; max: number }
  options: Record<string, OptionSpec>
  examples: readonly string[]
  /** More lines after the options, when a command needs them. */
  notes?: string
  load(): Promise<{ default: (options: ParsedOptions) => Promise<number> }>
}

export interface ParsedOptions {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

export type CommandLine = { kind: 'help' } | { kind: 'usage-error'; message: string } | ({ kind: 'ok' } & ParsedOptions)

/** The options of `spec` from `args`; `help` when `--help`/`-h` was given (nothing else is checked then). */
export function parseCommandLine(spec: CommandSpec, args: string[]): CommandLine {
  try {
    return { kind: 'ok', ...parse(spec, args) }
  } catch (error) {
    if (error instanceof Help) return { kind: 'help' }
    if (error instanceof Usage) return { kind: 'usage-error', message: error.message }
    throw error
  }
}

class Help {}
class Usage {
  readonly message: string
  constructor(message: string) { this.message = message }
}

function parse(spec: CommandSpec, args: string[]): ParsedOptions {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } }
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }
  // A first pass that refuses nothing: `--help` wins over any other mistake, and unknown options are found by name.
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true })
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) throw new Help()
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name in options) continue
    const known = Object.keys(spec.options).map((n) => `--${n}`)
    const hint = didYouMean(t.rawName, [...known, '--help'])   // `--hlep` is a typo too
    throw usage(spec, `unknown option '${t.rawName}' for 'islet ${spec.name}'${hint ? ` (${hint})` : known.length ? ` (it takes ${known.join(', ')})` : ' (it takes no options)'}`)
  }
  let parsed
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true })
  } catch (error) {
    // What remains is a value missing or given to a flag; parseArgs' own sentence says which (and quotes oddly).
    // A value that begins with '-' (`--processes -1`) is refused by strict parseArgs as "ambiguous": say how to pass it.
    const dashed = (t: (typeof tokens)[number]) => t.kind === 'option' && t.inlineValue === false && t.value?.startsWith('-') === true
    const option = tokens.find((t) => t.kind === 'option' && (spec.options[t.name]?.type === 'string' ? t.value === undefined || dashed(t) : t.value !== undefined))
    throw usage(spec, option?.kind === 'option'
      ? spec.options[option.name]!.type !== 'string' ? `option '${option.rawName}' takes no value`
        : option.value !== undefined ? `option '${option.rawName}' got '${option.value}', which looks like an option: to give a value that begins with '-', write ${option.rawName}=${option.value}`
        : `option '${option.rawName}' needs a value: ${option.rawName} <${spec.options[option.name]!.value ?? 'value'}>`
      : (error as Error).message)
  }
  const values: ParsedOptions['values'] = {}
  for (const [name, o] of Object.entries(spec.options)) {
    const value = (parsed.values as Record<string, string | boolean | string[] | undefined>)[name] ?? o.default
    if (o.choices && typeof value === 'string' && !o.choices.includes(value)) {
      const hint = didYouMean(value, o.choices)
      throw usage(spec, `--${name} must be ${o.choices.join(' or ')}, not '${value}'${hint ? ` (${hint})` : ''}`)
    }
    values[name] = value
  }
  const { min, max } = spec.positionals
  const count = parsed.positionals.length
  if (count < min || count > max) {
    const wanted = max === 0 ? 'no arguments' : min === max ? `${min} argument${min === 1 ? '' : 's'}` : max === Infinity ? `at least ${min} argument${min === 1 ? '' : 's'}` : `at most ${max} argument${max === 1 ? '' : 's'}`
    const extra = count > max ? ` (got ${parsed.positionals.map((p) => `'${p}'`).join(' ')})` : ''
    throw usage(spec, `'islet ${spec.name}' takes ${wanted}${spec.args ? `: ${spec.args}` : ''}${extra}`)
  }
  return { values, positionals: parsed.positionals }
}

function usage(spec: CommandSpec, message: string): Usage {
  return new Usage(`${message}\nusage: islet ${spec.name}${spec.args ? ` ${spec.args}` : ''}${Object.keys(spec.options).length ? ' [options]' : ''}\nrun 'islet ${spec.name} --help' for its options and examples`)
}

/** The `--help` text of a command: usage line, what it does, its options, examples. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: islet ${spec.name}${spec.args ? ` ${spec.args}` : ''}${Object.keys(spec.options).length ? ' [options]' : ''}`, '', `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`]
  if (spec.notes) lines.push(spec.notes)
  lines.push('', 'Options:')
  const rows = Object.entries(spec.options).map(([name, o]) => [optionLabel(name, o), o.help] as const)
  rows.push(['-h, --help', 'show this help'])
  const width = Math.max(...rows.map(([label]) => label.length)) + 2
  for (const [label, help] of rows) lines.push(`  ${label.padEnd(width)}${help}`)
  lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`))
  return lines.join('\n')
}

function optionLabel(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`
}
