// The one test for "a JSON object" (not null, not an array), shared by the engine, the plugins and their authors:
// parsed YAML, JSON Schemas and step configs are all checked with it before their keys are read.

/** `value` is an object with string keys: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
