// Token lifetimes as the CLI writes them: `3600` (seconds), `90m`, `12h`, `30d`, `8w`, `1y`.
import { RegistryError } from '../../errors.ts'

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }

export function secondsOf(duration: string | number): number {
  if (typeof duration === 'number' && Number.isInteger(duration) && duration > 0) return duration
  const match = typeof duration === 'string' ? /^(\d+)\s*([smhdwy]?)$/.exec(duration.trim()) : null
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] || 's']! : 0
  if (!match || seconds <= 0) {
    throw new RegistryError('ERR_REGISTRY_AUTH_CONFIG', `token lifetime ${JSON.stringify(duration)} is not a duration: write seconds or a number with s, m, h, d, w or y (e.g. 30d)`)
  }
  return seconds
}
