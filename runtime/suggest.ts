// "Did you mean …?": the closest candidate by edit distance, when it is close enough to be a likely typo.

/**
 * Optimal-string-alignment distance (Damerau-Levenshtein where a transposition counts as one edit and no substring
 * is edited twice): `prot` → `port` is 1.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array(rows * cols)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1)
      }
      d[i * cols + j] = best
    }
  }
  return d[rows * cols - 1]!
}

/**
 * The candidate closest to `input`, or undefined when none is plausibly meant. Case differences alone always match;
 * otherwise up to a third of the longer word may differ (at least one edit, at most three).
 * @example suggest('prot', ['port', 'host']) === 'port'
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  const lower = input.toLowerCase()
  for (const candidate of candidates) {
    if (candidate === input) continue
    if (candidate.toLowerCase() === lower) return candidate
    const distance = editDistance(lower, candidate.toLowerCase())
    const allowed = Math.min(3, Math.max(1, Math.floor(Math.max(input.length, candidate.length) / 3)))
    if (distance <= allowed && distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** `did you mean 'x'?` when there is a close candidate, else undefined; for building hints. */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const match = suggest(input, candidates)
  return match === undefined ? undefined : `did you mean '${match}'?`
}
