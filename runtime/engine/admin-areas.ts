// The engine's admin areas: which plugin handler answers `<admin prefix>/<area>/…` (the `admin` service's backend).
// One table per engine, read by every islet.admin module; a mount is undone when its module's service scope ends.
import type { AdminHandler } from '@islet/sdk'
import { IsletError } from '../errors.ts'

/** Paths the islet.admin module answers itself: a plugin cannot take them over. */
export const RESERVED_ADMIN_AREAS: readonly string[] = ['status', 'events', 'slots', 'audit', 'mcp', 'executions']
const AREA = /^[a-z][a-z0-9-]{0,39}$/

export interface AdminAreas {
  /** Adds `handler` for `area` on top of any earlier mount (a reloaded module's new instance); returns its undo. */
  mount(area: string, handler: AdminHandler, who: string): () => void
  handler(area: string): AdminHandler | undefined
}

export function createAdminAreas(): AdminAreas {
  // Newest last: the instance a reload starts answers from its start; the one it replaces is unmounted when it stops.
  const areas = new Map<string, { handler: AdminHandler }[]>()
  return {
    mount(area, handler, who) {
      if (!AREA.test(area) || RESERVED_ADMIN_AREAS.includes(area)) {
        throw new IsletError('ERR_ENGINE_STATE', `${who} tried to mount the admin area '${String(area).slice(0, 40)}': an area is a lower-case word ` +
          `([a-z][a-z0-9-]*, at most 40) other than ${RESERVED_ADMIN_AREAS.join(', ')}`)
      }
      const entry = { handler }
      const stack = areas.get(area) ?? []
      stack.push(entry)
      areas.set(area, stack)
      return () => {
        const i = stack.indexOf(entry)
        if (i >= 0) stack.splice(i, 1)
        if (stack.length === 0 && areas.get(area) === stack) areas.delete(area)
      }
    },
    handler: (area) => areas.get(area)?.at(-1)?.handler,
  }
}
