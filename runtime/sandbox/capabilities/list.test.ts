// The capability list is the one place capabilities are declared: every one of them brings every part, in its own
// folder, and the sandbox worker can load the declarations under its permission flags.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BOOTSTRAP } from '../guest-bootstrap.ts'
import { HOST_ARGUMENT_CAPS } from '../protocol.ts'
import { workerExecArgv } from '../worker-process.ts'
import type { ArgumentCap, CapabilityDeps } from './capability.ts'
import { CAPABILITY_FLAGS, grantsFromFlags } from './flags.ts'
import { CAPABILITY_LIST } from './list.ts'
import { NO_GRANTS } from '../../config/component-schema.ts'
import { createEventBus } from '../../events/bus.ts'

const deps = { bus: createEventBus(), env: {}, logger: console } as unknown as CapabilityDeps
const validCap = (cap: ArgumentCap): boolean =>
  typeof cap.name === 'string' && cap.name.length > 0 && Number.isInteger(cap.max) && cap.max >= 0 &&
  (cap.fields === undefined ? cap.max > 0 : Object.values(cap.fields).every(validCap))

describe('the capability list', () => {
  it('names each capability once, each from a folder of its own under runtime/sandbox/capabilities', () => {
    const names = CAPABILITY_LIST.map((c) => c.name)
    expect(new Set(names).size).toBe(names.length)
    for (const name of names) expect(existsSync(fileURLToPath(new URL(`./${name}/index.ts`, import.meta.url)))).toBe(true)
    // Ops are unique across capabilities: the host routes a call by its op alone.
    const ops = CAPABILITY_LIST.flatMap((c) => Object.keys(c.ops))
    expect(new Set(ops).size).toBe(ops.length)
    expect(Object.keys(HOST_ARGUMENT_CAPS).sort()).toEqual([...ops].sort())
  })

  for (const c of CAPABILITY_LIST) {
    describe(c.name, () => {
      it('has a docs line and a guest shim the bootstrap installs as ctx.' + c.name, () => {
        expect(c.doc).toMatch(/^\S.{20,}$/)
        expect(c.guest.value.trim().length).toBeGreaterThan(0)
        expect(BOOTSTRAP).toContain(`${c.name}: ${c.guest.value},`)
        if (c.guest.prelude !== undefined) expect(BOOTSTRAP).toContain(c.guest.prelude)
      })

      if (!c.grant) {
        it('is ambient: no grant, no ops, no flag, no host half (log lines travel apart from host calls)', () => {
          expect(c.name).toBe('log') // a capability that forgets its grant must not silently become ambient
          expect([Object.keys(c.ops), c.cli, c.host]).toEqual([[], undefined, undefined])
        })
        return
      }
      const grant = c.grant

      it('declares its grants.' + c.name + ' schema, its value when not granted, and what grants it', () => {
        expect(grant.schema).toBeTypeOf('object')
        expect(JSON.stringify(grant.schema).length).toBeGreaterThan(2)
        expect(grant.grants(grant.none)).toBe(false)
        expect((NO_GRANTS as Record<string, unknown>)[c.name]).toEqual(grant.none)
      })

      it('declares at least one op, each with the caps of its arguments', () => {
        expect(Object.keys(c.ops).length).toBeGreaterThan(0)
        for (const [op, caps] of Object.entries(c.ops)) {
          expect(caps.length, op).toBeGreaterThan(0)
          expect(caps.every(validCap), op).toBe(true)
          expect(c.guest.value, `the shim calls ${op}`).toContain(`'${op}'`)
        }
      })

      it('has a component test flag that grants it, and grants nothing unless given', () => {
        expect(c.cli).toBeDefined()
        const flag = c.cli!.flag
        expect(CAPABILITY_FLAGS[flag]).toBeDefined()
        const given = c.cli!.type === 'boolean' ? true : ['https://api.example.com']
        expect(grant.grants(c.cli!.grant(given))).toBe(true)
        expect(grant.grants((grantsFromFlags({}) as Record<string, unknown>)[c.name])).toBe(false)
      })

      it('has a host half with a handler for every op, refusing them when not granted', async () => {
        expect(c.host).toBeDefined()
        const host = await c.host!()
        const made = host.create(grant.none, 'probe', deps)
        for (const op of Object.keys(c.ops)) {
          expect(made.ops[op], op).toBeTypeOf('function')
          let code: unknown
          try { await made.ops[op](['x'], 1) } catch (error) { code = (error as { code?: string }).code }
          expect(code, op).toBe('ERR_CAPABILITY_DENIED')
        }
        await made.close?.()
      })
    })
  }

  it('loads in a sandbox worker under its permission flags, without any host half', () => {
    const list = fileURLToPath(new URL('./list.ts', import.meta.url))
    const script = `const { CAPABILITY_LIST } = await import(${JSON.stringify(list)}); console.log(CAPABILITY_LIST.map((c) => c.name).join(','))`
    const out = execFileSync(process.execPath, [...workerExecArgv(), '--input-type=module', '-e', script], { encoding: 'utf8', env: {} })
    expect(out.trim()).toBe(CAPABILITY_LIST.map((c) => c.name).join(','))
  })
})
