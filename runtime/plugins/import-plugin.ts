// Importing a plugin's module: the declaration it exports, or an error that says where its code went wrong.
// Plugins are trusted host code: this runs them in the engine process, with its rights (see README, Plugins).
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { IsletError, messageOf } from '../errors.ts'
import { linkSdk } from './sdk-link.ts'

/** A place in a plugin's own source, for errors that are the plugin's and not the YAML's. */
export interface CodeLocation {
  file: string
  line: number
  col: number
}

/**
 * Imports `file` (absolute) and returns what it exports as its plugin: the default export, else a named `plugin`
 * export, else (a CommonJS module compiled from `export default`) `default.default`. Throws ERR_PLUGIN_LOAD_FAILED;
 * for a syntax error, `details.location` is where in the plugin's files it stands.
 */
export async function importPlugin(file: string): Promise<unknown> {
  linkSdk()
  let namespace: Record<string, unknown>
  try {
    namespace = await import(pathToFileURL(file).href) as Record<string, unknown>
  } catch (error) {
    const location = error instanceof SyntaxError ? await syntaxLocation(error, file) : undefined
    const code = (error as { code?: unknown } | null | undefined)?.code // `throw undefined` is a plugin's to make
    const missing = code === 'ERR_MODULE_NOT_FOUND' ? ` (${missingImport(messageOf(error))})` : ''
    throw new IsletError('ERR_PLUGIN_LOAD_FAILED',
      `${error instanceof SyntaxError ? 'syntax error' : 'failed while being imported'}: ${messageOf(error)}${missing}`,
      { cause: error, details: location ? { location } : {} })
  }
  const exported = [namespace.default, namespace.plugin, (namespace.default as { default?: unknown } | undefined)?.default]
  return exported.find(looksLikePlugin) ?? namespace.default ?? namespace.plugin
}

/**
 * What to do about an import Node could not resolve, from its message: a relative import written without its
 * extension (ES modules resolve none, and TypeScript habits leave it out), a file that is not there, a package not
 * installed where the plugin can see it.
 */
function missingImport(message: string): string {
  const file = /^Cannot find module '([^']+)' imported from (.+)$/.exec(message)
  if (file) {
    const written = ['.ts', '.js', '.mts', '.mjs'].find((ext) => existsSync(file[1]! + ext))
    return written
      ? `write the extension in the import: '${file[1]}${written}' exists; ES modules resolve none`
      : `nothing at ${file[1]}: check the import path in ${file[2]}`
  }
  const pkg = /^Cannot find package '([^']+)' imported from (.+)$/.exec(message)
  if (pkg) return `the package '${pkg[1]}' is not installed where ${pkg[2]} can find it: npm install ${pkg[1]} in the app folder, or in the plugin's own package`
  return 'a module it imports is missing: is the plugin fully installed?'
}

/** Enough of a plugin to pick the right export; checkPlugin (config/plugins.ts) says what exactly is wrong. */
function looksLikePlugin(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { version?: unknown }).version === 'string'
}

/**
 * Where a syntax error stands. Node puts `file:line` and a caret line above a TypeScript file's error; for an ES
 * module's own it keeps the position to itself, so esbuild (loaded only here) parses the plugin's files to find it.
 */
async function syntaxLocation(error: SyntaxError, entry: string): Promise<CodeLocation | undefined> {
  const header = /^(.+?):(\d+)\n((?:.*\n)*?)( *)\^/.exec(error.stack ?? '')
  if (header && existsSync(header[1]!)) return { file: header[1]!, line: Number(header[2]), col: header[4]!.length + 1 }
  try {
    const { build } = await import('esbuild')
    await build({ entryPoints: [entry], bundle: true, write: false, packages: 'external', platform: 'node', format: 'esm',
      logLevel: 'silent', absWorkingDir: dirname(entry) })
  } catch (failure) {
    const at = (failure as { errors?: { location?: { file: string; line: number; column: number } | null }[] }).errors?.[0]?.location
    if (at) return { file: resolve(dirname(entry), at.file), line: at.line, col: at.column + 1 }
  }
  return undefined
}
