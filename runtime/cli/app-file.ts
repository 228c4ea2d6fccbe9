// The app file `islet run` and `islet dev` start: checked before anything is loaded or forked.
import { existsSync } from 'node:fs'
import { IsletError } from '../errors.ts'

export function requireAppFile(fileArg: string | undefined, command: string): string {
  const file = fileArg ?? 'app.yaml'
  if (!existsSync(file)) {
    throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', `no app file '${file}'${fileArg === undefined ? ' (the default) in this folder' : ''}; pass one: islet ${command} path/to/app.yaml`)
  }
  return file
}
