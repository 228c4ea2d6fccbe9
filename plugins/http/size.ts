// Byte sizes in config: an integer, or a string like '512kb' / '1mb' as people write them.
import { HttpError } from './errors.ts'

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

export const SIZE_SCHEMA = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(b|kb|mb|gb)\\s*$', description: "a size such as '512kb' or '1mb'" },
  ],
} as const

export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$/i.exec(value)
  if (!m) throw new HttpError('ERR_HTTP_CONFIG_INVALID', `'${value}' is not a size; write e.g. 512kb or 1mb`, { value })
  return Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()])
}
