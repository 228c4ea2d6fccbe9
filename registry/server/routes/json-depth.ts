// How deeply a JSON text nests, counted without parsing it. A request (or a tarball's package.json) of a few hundred
// thousand `[` parses fine, then overflows the stack of whatever walks it (comparing, stringifying): refused first.

/** Deepest nesting any honest npm document reaches is far below this (a publish's version manifest: about 10). */
export const MAX_JSON_DEPTH = 64

/** Whether `text` nests objects and arrays deeper than `max`; strings (and the brackets in them) are skipped. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}
