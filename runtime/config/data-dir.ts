// Where an app's durable state lives; its own file so that `islet validate` reaches it without loading the engine.
import { resolve } from 'node:path'

/** The data directory an app runs with: the option, else ISLET_DATA_DIR, else `./data`; absolute. */
export function dataDirOf(option: string | undefined, env: Record<string, string | undefined>): string {
  return resolve(option ?? env.ISLET_DATA_DIR ?? 'data')
}
