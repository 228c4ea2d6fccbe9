// `islet schema [app.yaml]`: the combined JSON Schema (engine + every registered module and step type) for editors;
// given an app, its `plugins:` types too.
import { writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { combinedSchema } from '../config/schema.ts'
import { formatDiagnostics } from '../config/diagnostics.ts'
import { loadAppRegistry } from '../config/load.ts'
import { IsletError, messageOf } from '../errors.ts'
import { createBuiltinRegistry } from '../builtins.ts'
import type { ParsedOptions } from './options.ts'

export default async function schema({ values, positionals }: ParsedOptions): Promise<number> {
  let registry = createBuiltinRegistry()
  const app = positionals[0]
  if (app !== undefined) {
    const loaded = await loadAppRegistry(app, { registry })
    if (loaded.diagnostics.some((d) => d.severity === 'error')) {
      console.error(`${formatDiagnostics(loaded.diagnostics)}\nthe app's plugins did not load; fix them to get their types in the schema`)
      return 1
    }
    registry = loaded.registry
  }
  const text = `${JSON.stringify(combinedSchema(registry), null, 2)}\n`
  const out = values.out as string | undefined
  if (out === undefined) {
    process.stdout.write(text)
    return 0
  }
  try {
    writeFileSync(out, text)
  } catch (error) {
    throw new IsletError('ERR_CLI_OUTPUT', `cannot write the schema to '${out}': ${whyNot(error, resolve(out))}`, { cause: error })
  }
  return 0
}

/** Why a file could not be written, and what to do about it. */
function whyNot(error: unknown, path: string): string {
  switch ((error as { code?: unknown }).code) {
    case 'ENOENT': return `the folder ${dirname(path)} does not exist; create it (mkdir -p ${dirname(path)}) or pass --out a file in an existing folder`
    case 'ENOTDIR': return `a part of ${dirname(path)} is a file, not a folder; pass --out a path in a folder`
    case 'EISDIR': return `${path} is a folder; pass --out a file name, e.g. --out ${path}/islet.schema.json`
    case 'EACCES': case 'EPERM': return `permission denied; pass --out a file in a folder you can write to`
    case 'EROFS': return 'the file system is read-only; pass --out a file elsewhere'
    default: return messageOf(error)
  }
}
