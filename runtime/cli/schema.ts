// `islet schema`: the combined JSON Schema (engine + every registered module and step type) for editors.
import { writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { combinedSchema } from '../config/schema.ts'
import { IsletError, messageOf } from '../errors.ts'
import { createBuiltinRegistry } from '../builtins.ts'
import type { ParsedOptions } from './options.ts'

export default async function schema({ values }: ParsedOptions): Promise<number> {
  const text = `${JSON.stringify(combinedSchema(createBuiltinRegistry()), null, 2)}\n`
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
