// `islet dev [app.yaml]`: run with watching, printing one line per event — a sentence (errors on stderr), or with
// `--format json` one JSON object per line on stdout: the event as the admin stream sends it.
import type { ParsedOptions } from './options.ts'
import { serve } from './run.ts'

export default function dev({ values, positionals }: ParsedOptions): Promise<number> {
  const say = (line: string, isError: boolean) => { (isError ? process.stderr : process.stdout).write(`${line}\n`) }
  const sayJson = values.format === 'json' ? (event: object) => { process.stdout.write(`${JSON.stringify(event)}\n`) } : undefined
  return serve(positionals[0], { command: 'dev', dataDir: values['data-dir'] as string | undefined, frozenLockfile: values['frozen-lockfile'] === true, watch: true, dev: { say, ...(sayJson ? { sayJson } : {}) } })
}
