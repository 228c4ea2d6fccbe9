// `@islet/sdk` for plugins loaded from outside this package: the engine's own copy, whoever imports it.
// A plugin in an app folder (`./plugins/x`) or in the app's node_modules names `@islet/sdk` as a peer dependency,
// which the host provides: Node would look for it next to the plugin and not find it. One copy also means one set
// of contract objects and error classes for built-ins and third parties (contracts and StepError compare by name and
// shape anyway, so a second copy would work too; it is just never needed). The plugin's `islet:` range is what says
// which sdk it was written for.
import { registerHooks } from 'node:module'

const SDK_URL = new URL('../../sdk/index.ts', import.meta.url).href
let linked = false

/** Installs the resolve hook once per process (idempotent); only the loader of `plugins:` needs it. */
export function linkSdk(): void {
  if (linked) return
  linked = true
  registerHooks({
    resolve(specifier, context, nextResolve) {
      return specifier === '@islet/sdk' ? { url: SDK_URL, shortCircuit: true } : nextResolve(specifier, context)
    },
  })
}
