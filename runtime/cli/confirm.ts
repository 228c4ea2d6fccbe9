// The yes/no a command that widens what an app trusts asks before writing. Off a terminal (CI, a pipe) there is no
// one to ask: the command refuses unless --yes says the caller has read what it printed.
import { createInterface } from 'node:readline/promises'
import { IsletError } from '../errors.ts'

export async function confirm(question: string, options: { yes: boolean; command: string }): Promise<boolean> {
  if (options.yes) return true
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new IsletError('ERR_CLI_CONFIRM', `nothing changed: islet ${options.command} asks before it changes the app, and this is not a terminal; read what it would do (above) and pass --yes to go ahead`)
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
