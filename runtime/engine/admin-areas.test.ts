import { describe, expect, it } from 'vitest'
import { createAdminAreas } from './admin-areas.ts'

describe('admin areas', () => {
  it('the latest mount of an area answers; undoing it hands the area back; the admin module\'s own paths cannot be taken', () => {
    const areas = createAdminAreas()
    const old = () => ({ status: 200, body: 'old' })
    const next = () => ({ status: 200, body: 'new' })
    const undoOld = areas.mount('queues', old, 'module a')
    const undoNew = areas.mount('queues', next, 'module a (reloaded)')
    expect(areas.handler('queues')).toBe(next)
    undoOld() // the replaced instance stops after the new one started
    expect(areas.handler('queues')).toBe(next)
    undoNew()
    expect(areas.handler('queues')).toBeUndefined()
    for (const area of ['slots', 'status', 'mcp', 'Queues', '', '../x']) {
      expect(() => areas.mount(area, next, "module 'm'")).toThrow(/admin area/)
    }
  })
})
