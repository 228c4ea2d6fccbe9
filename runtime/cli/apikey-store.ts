// Which key store `islet apikey` works on: the app's auth.apikey module (chosen with --module when there are several),
// its `store` resolved against the data directory as `islet run` resolves it. Reads the YAML only: no engine starts,
// no plugin loads, and a variable the rest of the app interpolates (JWT_SECRET…) need not be set.
import { isAbsolute, relative, resolve } from 'node:path'
import { isRecord } from '@islet/sdk'
import { DEFAULT_STORE } from '../../plugins/auth/apikey.ts'
import { openKeyStore, type KeyStore } from '../../plugins/auth/key-store.ts'
import { dataDirOf } from '../config/data-dir.ts'
import { loadFiles } from '../config/imports.ts'
import { IsletError } from '../errors.ts'
import { requireAppFile } from './app-file.ts'
import type { ParsedOptions } from './options.ts'

export interface OpenedKeyStore {
  store: KeyStore
  /** The auth.apikey module's name. */
  module: string
}

export async function openAppKeyStore(values: ParsedOptions['values'], command: string): Promise<OpenedKeyStore> {
  const appFile = resolve(requireAppFile(values.app as string | undefined, `${command} --app`))
  const set = await loadFiles(appFile, { env: process.env })
  if (set.files.length === 0) {
    const d = set.diagnostics[0]
    throw new IsletError('ERR_CONFIG_FILE_NOT_FOUND', d ? `${d.file}:${d.line}:${d.col}: ${d.message}` : `cannot read ${appFile}`)
  }
  const modules = set.files.flatMap((f) => (Array.isArray(f.value.modules) ? f.value.modules : [])
    .filter((m): m is Record<string, unknown> => isRecord(m) && m.type === 'auth.apikey' && typeof m.name === 'string'))
  const wanted = values.module as string | undefined
  const names = modules.map((m) => m.name as string)
  if (modules.length === 0) {
    throw new IsletError('ERR_CLI_USAGE', `${appFile} declares no auth.apikey module, so there is no key store to manage: add one under modules: ` +
      '(- { name: keys, type: auth.apikey, config: { store: keys.db } }) and list it under a server\'s middleware or islet.admin auth')
  }
  const chosen = wanted === undefined ? modules.length === 1 ? modules[0] : undefined : modules.find((m) => m.name === wanted)
  if (!chosen) {
    throw new IsletError('ERR_CLI_USAGE', wanted === undefined
      ? `${appFile} has several auth.apikey modules (${names.join(', ')}): choose one with --module <name>`
      : `${appFile} has no auth.apikey module named '${wanted}'; it has ${names.join(', ')}`)
  }
  const config = isRecord(chosen.config) ? chosen.config : {}
  const written = typeof config.store === 'string' ? config.store : DEFAULT_STORE
  const dataDir = dataDirOf(values['data-dir'] as string | undefined, process.env)
  const file = resolve(dataDir, written)
  const rel = relative(dataDir, file)
  if (rel === '' || rel === '..' || rel.startsWith('../') || isAbsolute(rel)) {
    throw new IsletError('ERR_CONFIG_PATH_OUTSIDE', `auth.apikey '${chosen.name as string}': store '${written}' is outside the data directory ${dataDir}; name it relative to it (store: keys.db)`)
  }
  return { store: openKeyStore(file), module: chosen.name as string }
}
