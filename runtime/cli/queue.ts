// `islet queue list|dead|retry|purge`: the queues of an app's data directory and their dead-letter queues, read and
// changed in <dataDir>/queues.db directly — with the engine stopped or running. Running engines share the file the
// same way (WAL, each change one IMMEDIATE transaction), and pick a retried job up at their next poll.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { QueueError } from '../../plugins/queue/errors.ts'
import { QUEUES_FILE, allQueueCounts, deadLetterStatements, openQueueDatabase, type JobRecord } from '../../plugins/queue/store.ts'
import { dataDirOf } from '../config/data-dir.ts'
import { IsletError } from '../errors.ts'
import type { ParsedOptions } from './options.ts'

function openStore(values: ParsedOptions['values']): { db: Database.Database; file: string } {
  const dataDir = dataDirOf(values['data-dir'] as string | undefined, process.env)
  const file = join(dataDir, QUEUES_FILE)
  if (!existsSync(file)) {
    throw new IsletError('ERR_CLI_USAGE', `there is no ${file}: no queue.sqlite module has started with this data directory; ` +
      'give the one the app runs with (--data-dir, or $ISLET_DATA_DIR)')
  }
  return { db: openQueueDatabase(file), file }
}

function withStore<T>(values: ParsedOptions['values'], work: (db: Database.Database, file: string) => T): T {
  const { db, file } = openStore(values)
  try { return work(db, file) } finally { db.close() }
}

/** The queue name (checked to have jobs in the file) and an optional job id from the positionals. */
function target(db: Database.Database, positionals: string[], file: string): { queue: string; id: number | undefined } {
  const [queue, id] = positionals as [string, string | undefined]
  const known = [...allQueueCounts(db, Date.now()).keys()]
  if (!known.includes(queue)) {
    throw new QueueError('ERR_QUEUE_UNKNOWN', `${file} holds no jobs of a queue named '${queue}' (queues: ${known.join(', ') || 'none'})`)
  }
  if (id === undefined) return { queue, id: undefined }
  if (!/^[1-9]\d{0,15}$/.test(id)) throw new IsletError('ERR_CLI_USAGE', `'${id}' is not a job id: ids are the integers \`islet queue dead ${queue}\` lists`)
  return { queue, id: Number(id) }
}

export async function queueList({ values }: ParsedOptions): Promise<number> {
  const queues = withStore(values, (db) => allQueueCounts(db, Date.now()))
  if (values.format === 'json') {
    console.log(JSON.stringify({ queues: [...queues].map(([name, counts]) => ({ name, ...counts })) }, null, 2))
    return 0
  }
  if (queues.size === 0) { console.log('no jobs in any queue'); return 0 }
  printTable([['queue', 'waiting', 'delayed', 'running', 'dead', 'done'],
    ...[...queues].map(([name, c]) => [name, ...[c.waiting, c.delayed, c.running, c.dead, c.done].map(String)])])
  return 0
}

export async function queueDead({ values, positionals }: ParsedOptions): Promise<number> {
  const limit = Number(values.limit ?? 100)
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new IsletError('ERR_CLI_USAGE', `--limit ${String(values.limit)}: give an integer from 1 to 10000`)
  const jobs = withStore(values, (db, file) => {
    const { queue, id } = target(db, positionals, file)
    const dead = deadLetterStatements(db)
    if (id === undefined) return dead.list(queue, limit, 0)
    const job = dead.get(queue, id)
    if (!job) throw new QueueError('ERR_QUEUE_JOB_UNKNOWN', `queue '${queue}' has no dead job ${id}: it was retried, purged, or never died`)
    return [job]
  })
  if (values.format === 'json' || positionals[1] !== undefined) {
    console.log(JSON.stringify(positionals[1] !== undefined ? jobs[0] : { queue: positionals[0], jobs }, null, 2))
    return 0
  }
  if (jobs.length === 0) { console.log(`no dead jobs in '${positionals[0]}'`); return 0 }
  printTable([['id', 'attempts', 'died', 'error', 'payload'], ...jobs.map((j: JobRecord) => [
    j.id, String(j.attempts), j.at, j.error ? `${j.error.code}: ${j.error.message}`.slice(0, 60) : '-', JSON.stringify(j.payload).slice(0, 40)])])
  return 0
}

/** retry and purge: one dead job by id, or every one with --all (never all by accident). */
function change(verb: 'retry' | 'purge') {
  return async ({ values, positionals }: ParsedOptions): Promise<number> => {
    const id = positionals[1]
    if ((id === undefined) === !values.all) {
      throw new IsletError('ERR_CLI_USAGE', id === undefined ? `name the dead job to ${verb} (islet queue ${verb} ${positionals[0]} <id>), or give --all for every one`
        : `give a job id or --all, not both`)
    }
    const count = withStore(values, (db, file) => {
      const t = target(db, positionals, file)
      const dead = deadLetterStatements(db)
      const n = verb === 'retry' ? dead.retry(t.queue, t.id, Date.now()) : dead.purge(t.queue, t.id)
      if (n === 0 && t.id !== undefined) throw new QueueError('ERR_QUEUE_JOB_UNKNOWN', `queue '${t.queue}' has no dead job ${t.id}: it was retried, purged, or never died`)
      return n
    })
    if (values.format === 'json') console.log(JSON.stringify({ queue: positionals[0], [verb === 'retry' ? 'retried' : 'purged']: count }))
    else console.log(verb === 'retry' ? `${count} dead job(s) of '${positionals[0]}' waiting again (attempts from 1); a running engine takes them at its next poll`
      : `${count} dead job(s) of '${positionals[0]}' purged`)
    return 0
  }
}

export const queueRetry = change('retry')
export const queuePurge = change('purge')

function printTable(table: string[][]): void {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
  for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i]! + 2)).join('').trimEnd())
}
