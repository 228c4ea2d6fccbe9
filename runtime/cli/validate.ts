// `islet validate <files…>`: every problem of every file, as `path:line:col severity CODE message` or JSON.
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from '../config/diagnostics.ts'
import { IsletError } from '../errors.ts'
import { validateApp } from '../app.ts'
import { createBuiltinRegistry } from '../builtins.ts'
import { parseOptions } from './options.ts'

export async function validateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({
    args, allowPositionals: true, options: { format: { type: 'string', default: 'text' }, 'data-dir': { type: 'string' } },
  })
  if (positionals.length === 0) throw new IsletError('ERR_CLI_USAGE', 'validate needs at least one config file: islet validate app.yaml')
  if (values.format !== 'text' && values.format !== 'json') throw new IsletError('ERR_CLI_USAGE', `--format must be text or json, not '${values.format}'`)
  const registry = createBuiltinRegistry()
  const diagnostics: Diagnostic[] = []
  for (const file of positionals) diagnostics.push(...await validateApp(file, registry, process.env, values['data-dir']))
  sortDiagnostics(diagnostics)
  const errors = diagnostics.filter((d) => d.severity === 'error').length
  if (values.format === 'json') {
    console.log(JSON.stringify({ valid: errors === 0, files: positionals, diagnostics }, null, 2))
  } else {
    for (const d of diagnostics) console.log(formatDiagnostic(d))
    console.log(errors === 0 ? `${positionals.length} file${positionals.length === 1 ? '' : 's'} valid` : `${errors} error${errors === 1 ? '' : 's'}`)
  }
  return errors === 0 ? 0 : 1
}
