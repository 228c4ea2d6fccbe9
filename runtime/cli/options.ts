// Option parsing shared by the subcommands: node:util parseArgs, with its errors turned into usage errors.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { IsletError, messageOf } from '../errors.ts'

export function parseOptions<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config)
  } catch (error) {
    throw new IsletError('ERR_CLI_USAGE', messageOf(error))
  }
}
