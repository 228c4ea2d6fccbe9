// The lock's file name, apart from locked-plugins.ts: config loading names it for every app with a `plugins:` map,
// and importing it from there would load the whole registry client into every `islet run` and `islet validate`.
export const LOCK_FILE = 'islet.lock'
