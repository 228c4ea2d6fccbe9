// Publish bodies are buffered whole before they are parsed (npm sends one JSON document with the tarball in base64),
// and at its peak one costs the server a few times its size. The per-user rate limit still lets a user send dozens
// at once, so the bytes every request in flight may hold together are bounded too: past the budget a request is
// answered 503 (retry shortly) instead of running the registry out of memory.
import { RegistryHttpError } from './http-error.ts'

export interface BodyBudget {
  readonly max: number
  used: number
}

export function createBodyBudget(max: number): BodyBudget {
  return { max, used: 0 }
}

/** Takes `bytes` from the budget for the caller, or refuses with a 503 naming the budget. */
export function take(budget: BodyBudget, bytes: number, what: string): void {
  if (budget.used + bytes > budget.max) {
    throw new RegistryHttpError(503, 'ERR_REGISTRY_BUSY', `${what}: the registry is receiving ${budget.used} bytes of other uploads and holds at most ${budget.max} at once`,
      'retry in a few seconds')
  }
  budget.used += bytes
}

export function give(budget: BodyBudget, bytes: number): void {
  budget.used = Math.max(0, budget.used - bytes)
}
