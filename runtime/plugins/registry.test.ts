// The plugin registry: compatibility checked at registration naming both sides, conflicts refused, undo exact.
import { describe, expect, it } from 'vitest'
import { defineFunction, defineModuleType, definePlugin, defineStepType, defineTrigger } from '@islet/sdk'
import { createRegistry } from './registry.ts'

const moduleType = (type: string) => defineModuleType({ type, configSchema: {}, create: () => ({}) })
const stepType = (type: string) => defineStepType({ type, configSchema: {}, create: () => () => undefined })

describe('plugin registry', () => {
  it('refuses a plugin built for another engine version, naming both sides', () => {
    const registry = createRegistry({ engineVersion: '1.4.1' })
    const geo = definePlugin({ name: '@acme/geo', version: '1.2.0', islet: '^2.0.0', moduleTypes: [moduleType('geo.lookup')] })
    expect(() => registry.register(geo)).toThrow('@acme/geo@1.2.0 needs islet ^2.0.0, this is islet 1.4.1')
    try { registry.register(geo) } catch (e) { expect((e as { code: string }).code).toBe('ERR_PLUGIN_ENGINE_MISMATCH') }
    expect(registry.moduleType('geo.lookup')).toBeUndefined()
  })

  it('refuses a second plugin claiming a type, naming the owner, and registers nothing of it', () => {
    const registry = createRegistry()
    registry.register(definePlugin({ name: 'a', version: '1.0.0', moduleTypes: [moduleType('x.one')] }))
    const b = definePlugin({ name: 'b', version: '2.0.0', moduleTypes: [moduleType('x.two'), moduleType('x.one')] })
    expect(() => registry.register(b)).toThrow("b@2.0.0 registers module type 'x.one', already registered by a@1.0.0")
    expect(registry.moduleType('x.two')).toBeUndefined()
  })

  it('refuses malformed plugins: bad version, bad range, bad type names', () => {
    const registry = createRegistry()
    expect(() => registry.register(definePlugin({ name: 'p', version: 'one' }))).toThrow(/semver version/)
    expect(() => registry.register(definePlugin({ name: 'p', version: '1.0.0', islet: 'soon' }))).toThrow(/not a semver range/)
    expect(() => registry.register(definePlugin({ name: 'p', version: '1.0.0', stepTypes: [stepType('Bad Name')] }))).toThrow(/lower-case dotted words/)
  })

  it('refuses list entries that are not declarations (a JavaScript plugin has no types to catch them), naming the list and the fix', () => {
    const registry = createRegistry()
    const cases: [Record<string, unknown>, string][] = [
      [{ moduleTypes: [null] }, "moduleTypes[0] is not a module type: make it with defineModuleType({ type, configSchema, create })"],
      [{ stepTypes: [{}] }, "stepTypes[0] is not a step type: make it with defineStepType({ type, configSchema, create })"],
      [{ stepTypes: [{ type: 'x.s', configSchema: {} }] }, "stepTypes[0] is not a step type"],
      [{ triggers: [{ name: 'tick', variables: 'abc' }] }, "triggers[0] is not a trigger type"],
    ]
    for (const [lists, message] of cases) {
      const plugin = { name: 'js', version: '1.0.0', ...lists } as unknown as Parameters<typeof registry.register>[0]
      expect(() => registry.register(plugin)).toThrow(message)
      try { registry.register(plugin) } catch (e) { expect((e as { code: string }).code).toBe('ERR_PLUGIN_INVALID') }
    }
    expect(registry.plugins()).toEqual([])
  })

  it('register() returns its undo, which retracts exactly what it added', () => {
    const registry = createRegistry()
    const undo = registry.register(definePlugin({ name: 'p', version: '1.0.0', moduleTypes: [moduleType('p.m')], stepTypes: [stepType('p.s')] }))
    registry.register(definePlugin({ name: 'q', version: '1.0.0', moduleTypes: [moduleType('q.m')] }))
    expect(registry.moduleType('p.m')?.plugin.name).toBe('p')
    undo()
    expect(registry.moduleType('p.m')).toBeUndefined()
    expect(registry.stepType('p.s')).toBeUndefined()
    expect(registry.moduleType('q.m')?.plugin.name).toBe('q')
    expect(registry.plugins().map((p) => p.name)).toEqual(['q'])
  })

  it('knows which plugin provides a type it has not loaded', () => {
    const registry = createRegistry({ catalogue: { 'redis.cache': '@islet/redis' } })
    expect(registry.knownProvider('redis.cache')).toBe('@islet/redis')
    expect(registry.knownProvider('nope.x')).toBeUndefined()
  })

  it('registries are independent instances', () => {
    const one = createRegistry()
    one.register(definePlugin({ name: 'p', version: '1.0.0', moduleTypes: [moduleType('p.m')] }))
    expect(createRegistry().moduleType('p.m')).toBeUndefined()
  })

  it('registers expression functions by dotted name, refusing bare names (they would shadow built-ins) and conflicts', () => {
    const registry = createRegistry()
    const fn = (name: string, minArgs = 1) => defineFunction({ name, minArgs, call: (x) => x })
    const undo = registry.register(definePlugin({ name: 'geo', version: '1.0.0', functions: [fn('geo.distance', 2)] }))
    expect(registry.functions().map((r) => [r.definition.name, r.plugin.name])).toEqual([['geo.distance', 'geo']])
    expect(() => registry.register(definePlugin({ name: 'p', version: '1.0.0', functions: [fn('lower')] })))
      .toThrow(/'lower' must be named '<area>.<name>'.*shadow the built-in functions/)
    expect(() => registry.register(definePlugin({ name: 'p', version: '1.0.0', functions: [fn('Geo.Far')] }))).toThrow(/lower case/)
    expect(() => registry.register(definePlugin({ name: 'p', version: '1.0.0', functions: [fn('p.x', -1)] }))).toThrow(/minArgs/)
    expect(() => registry.register(definePlugin({ name: 'other', version: '2.0.0', functions: [fn('geo.distance')] })))
      .toThrow("other@2.0.0 registers function 'geo.distance', already registered by geo@1.0.0")
    undo()
    expect(registry.functions()).toEqual([])
  })

  it('refuses a plugin listing a service the engine does not offer, or a provides entry that is not a contract', () => {
    const registry = createRegistry()
    const mail = definePlugin({ name: '@acme/mail', version: '1.0.0', services: ['events', 'mailer' as 'events'], moduleTypes: [moduleType('mail.out')] })
    expect(() => registry.register(mail)).toThrow("@acme/mail@1.0.0 declares the service 'mailer', which the engine does not offer; services: events, components, status")
    expect(registry.moduleType('mail.out')).toBeUndefined()
    const shapeless = definePlugin({ name: 's', version: '1.0.0', moduleTypes: [{ ...moduleType('s.m'), provides: ['sql.database' as never] }] })
    expect(() => registry.register(shapeless)).toThrow(expect.objectContaining({ code: 'ERR_PLUGIN_INVALID' }))
  })

  it('registers trigger types: a second plugin claiming one is refused, a run variable cannot be redeclared, undo retracts it', () => {
    const registry = createRegistry()
    const tick = defineTrigger({ name: 'tick', variables: ['tick'] })
    const undo = registry.register(definePlugin({ name: 'clock', version: '1.0.0', triggers: [tick] }))
    expect(registry.triggerType('tick')?.plugin.name).toBe('clock')
    expect(() => registry.register(definePlugin({ name: 'other', version: '1.0.0', triggers: [defineTrigger({ name: 'tick' })] })))
      .toThrow("other@1.0.0 registers trigger type 'tick', already registered by clock@1.0.0")
    const bad = (trigger: Parameters<typeof defineTrigger>[0]) => () => registry.register(definePlugin({ name: 'bad', version: '1.0.0', triggers: [trigger] }))
    expect(bad({ name: 'queue', variables: ['input'] })).toThrow("trigger type 'queue' variable 'input' is a variable every run has")
    expect(bad({ name: 'queue', variables: ['a-b'] })).toThrow(/'a-b' is not an identifier/)
    expect(bad({ name: 'queue', variables: ['msg'], fields: { other: ['x'] } })).toThrow(/fields for 'other', which is not one of its variables/)
    expect(registry.triggerType('queue')).toBeUndefined()
    undo()
    expect(registry.triggerType('tick')).toBeUndefined()
  })
})
