// Freezing a loaded config all the way down: what the loader hands out (and what plugins' checkApp see) is read only.

/** Freezes `value` and everything reachable from it; returns it. A frozen object is taken as frozen throughout. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
