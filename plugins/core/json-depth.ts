// How deep a JSON text nests, told without parsing it: JSON.parse of 100,000 nested arrays succeeds, and whatever
// then walks the value (a schema check, a serialiser, a component's input) overflows its stack. Used where JSON text
// from outside is parsed: request bodies (plugins/http) and parseJson() in expressions.

/** Whether `text` nests arrays and objects deeper than `max` levels (strings and their escapes skipped). */
export function jsonNestsDeeper(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // a backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) return true }
    else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}
