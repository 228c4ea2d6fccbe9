// `islet registry user add <name>`: a user who may publish (after `npm login` or with a token). The password comes
// from ISLET_REGISTRY_PASSWORD or stdin, never the command line (which other users see in ps and shell history).
import { text } from 'node:stream/consumers'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'
import { createUser } from './registry-parts.ts'
import { registryDir } from './registry-serve.ts'

const USER = /^[a-z0-9][a-z0-9._-]{0,63}$/

export default async function registryUserAdd({ values, positionals }: ParsedOptions): Promise<number> {
  const name = positionals[0]!
  if (!USER.test(name)) throw new IsletError('ERR_CLI_USAGE', `'${name}' is not a user name: lower-case letters, digits and . _ -, starting with a letter or digit, at most 64 characters`)
  const password = await readPassword()
  const dir = registryDir(values)
  await createUser(dir, name, password)
  if (values.format === 'json') console.log(JSON.stringify({ user: name, dir }))
  else console.log(`user ${name} added to the registry in ${dir}; give them a token: islet registry token create --user ${name} --scope '@scope/*'`)
  return 0
}

async function readPassword(): Promise<string> {
  const fromEnv = process.env.ISLET_REGISTRY_PASSWORD
  const where = fromEnv ? 'ISLET_REGISTRY_PASSWORD' : 'stdin'
  if (!fromEnv && process.stdin.isTTY) throw new IsletError('ERR_CLI_USAGE', 'the password comes from stdin or ISLET_REGISTRY_PASSWORD, not the command line: e.g. printf %s "$PASSWORD" | islet registry user add <name>')
  const password = fromEnv || (await text(process.stdin)).replace(/\r?\n$/, '')
  if (password.length < 8) throw new IsletError('ERR_CLI_USAGE', `the password from ${where} is ${password.length === 0 ? 'empty' : 'shorter than 8 characters'}; give a longer one`)
  return password
}
