// A queue.sqlite module against the rest of the app (sdk AppView): a queue without `consumer:` runs no job in this
// app, so whatever puts jobs on it (an enqueue step, a durable event subscription, a third party's module) fills it
// for nobody here. A warning, not an error: another app on the same data directory may consume it.
import { basename } from 'node:path'
import type { AppModule, AppView } from '@islet/sdk'
import type { QueueConfig } from './module.ts'

export function checkConsumed(config: QueueConfig, app: AppView, self: AppModule): void {
  if (config.consumer) return
  const at = `${basename(self.source.file)}:${self.source.line}`
  for (const ref of app.referencesTo(self.name)) {
    app.report({
      code: 'ERR_QUEUE_NO_CONSUMER', at: ref.from, path: [...ref.path], severity: 'warning',
      message: `queue '${self.name}' has no consumer: the jobs ${ref.from.kind === 'step' ? 'this step enqueues' : `module '${ref.from.name}' puts on it`} are never run by this app`,
      hint: `give module '${self.name}' (${at}) a consumer: { pipeline: <name> }, unless another app on this data directory consumes it`,
    })
  }
}
