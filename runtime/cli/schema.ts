// `islet schema`: the combined JSON Schema (engine + every registered module and step type) for editors.
import { writeFileSync } from 'node:fs'
import { combinedSchema } from '../config/schema.ts'
import { createBuiltinRegistry } from '../builtins.ts'
import { parseOptions } from './options.ts'

export async function schemaCommand(args: string[]): Promise<number> {
  const { values } = parseOptions({ args, options: { out: { type: 'string' } } })
  const text = `${JSON.stringify(combinedSchema(createBuiltinRegistry()), null, 2)}\n`
  if (values.out) writeFileSync(values.out, text)
  else process.stdout.write(text)
  return 0
}
