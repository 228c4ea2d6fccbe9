// Hostile components that look for a way out: Node APIs, the host reference, isolated-vm, the bootstrap's
// closures; or that rewrite the intrinsics and prototypes the bootstrap relies on, or forge the host's error codes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { compileComponent, ComponentCompileError } from '../../runtime/components/compile.ts'
import { attacker, component, eventually, expectBreach, only, startHostile, type HostileHost } from './support.ts'

/** What ECMAScript (and V8's inert console) puts on a global object. A new V8 global fails this test: review it. */
const STANDARD_GLOBALS = new Set([
  'Object', 'Function', 'Array', 'Number', 'parseFloat', 'parseInt', 'Infinity', 'NaN', 'undefined', 'Boolean', 'String',
  'Symbol', 'Date', 'Promise', 'RegExp', 'Error', 'AggregateError', 'EvalError', 'RangeError', 'ReferenceError',
  'SyntaxError', 'TypeError', 'URIError', 'SuppressedError', 'globalThis', 'JSON', 'Math', 'Intl', 'ArrayBuffer',
  'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float16Array', 'Float32Array',
  'Float64Array', 'BigUint64Array', 'BigInt64Array', 'Uint8ClampedArray', 'DataView', 'Map', 'BigInt', 'Set', 'Iterator',
  'WeakMap', 'WeakSet', 'Proxy', 'Reflect', 'FinalizationRegistry', 'WeakRef', 'decodeURI', 'decodeURIComponent',
  'encodeURI', 'encodeURIComponent', 'escape', 'unescape', 'eval', 'isFinite', 'isNaN', 'console', 'DisposableStack',
  'AsyncDisposableStack',
  // Web-standard globals the bootstrap adds, part B (runtime/sandbox/globals/{timers,abort,console,fetch}.ts).
  'setTimeout', 'clearTimeout', 'DOMException', 'Event', 'EventTarget', 'AbortSignal', 'AbortController', 'Headers',
  'Request', 'Response', 'fetch',
])
/** The web globals the sandbox adds (sdk/globals.d.ts declares exactly these): `declare var X` / `declare function X`. */
const WEB_GLOBALS = new Set([...readFileSync(new URL('../../sdk/globals.d.ts', import.meta.url), 'utf8')
  .matchAll(/^declare (?:var|function) (\w+)/gm)].map((m) => m[1]!))
// V8's own structuredClone is never exposed (it could make a resizable ArrayBuffer); the sandbox's (globals/clone.ts)
// copies into fixed-length buffers and is listed in WEB_GLOBALS.
const FORBIDDEN = [
  'process', 'require', 'module', 'exports', 'global', 'Buffer', 'ivm', 'isolatedVm', 'Reference', 'ExternalCopy',
  'Isolate', 'Context', 'Callback', '$0', 'host', 'SharedArrayBuffer', 'Atomics', 'WebAssembly', '__islet_component',
  'setImmediate', 'queueMicrotask',
]
/** The global object's own property names, and every name on its prototype chain. */
const ENUMERATE = `const own = Reflect.ownKeys(globalThis).map(String)
  const chain: string[] = []
  for (let o: any = Object.getPrototypeOf(globalThis); o; o = Object.getPrototypeOf(o)) chain.push(...Reflect.ownKeys(o).map(String))`

const OVERWRITE_INTRINSICS = `
const RealError = Error
const boom = (what: string) => function () { throw new RealError('the bootstrap used ' + what) }
// In a microtask: still module evaluation, but after the bundle's own epilogue, which calls Function.prototype.call.
Promise.resolve().then(() => {
  JSON.stringify = boom('JSON.stringify') as any
  JSON.parse = boom('JSON.parse') as any
  for (const key of Reflect.ownKeys(Array.prototype)) {
    const writable = Object.getOwnPropertyDescriptor(Array.prototype, key)?.writable === true
    if (writable && key !== 'length' && key !== 'constructor') (Array.prototype as any)[key] = boom('Array.prototype.' + String(key))
  }
  Promise.prototype.then = boom('Promise.prototype.then') as any
  Promise.prototype.catch = boom('Promise.prototype.catch') as any
  Promise.resolve = boom('Promise.resolve') as any
  Function.prototype.call = boom('Function.prototype.call') as any
  Function.prototype.apply = boom('Function.prototype.apply') as any
  Function.prototype.bind = boom('Function.prototype.bind') as any
  Reflect.apply = boom('Reflect.apply') as any
  Object.freeze = boom('Object.freeze') as any
  Object.create = boom('Object.create') as any
  Object.keys = boom('Object.keys') as any
  Object.isFrozen = boom('Object.isFrozen') as any
  String.prototype.slice = boom('String.prototype.slice') as any
  WeakMap.prototype.get = boom('WeakMap.prototype.get') as any
  WeakMap.prototype.set = boom('WeakMap.prototype.set') as any
  const global = globalThis as any
  global.Error = boom('Error')
  global.Promise = boom('Promise')
  global.String = boom('String')
  global.JSON = { stringify: boom('JSON.stringify'), parse: boom('JSON.parse') }
})`

/** Every option name isolated-vm reads, as a throwing getter on Object.prototype: any inherited read is seen. */
const POLLUTE_OPTIONS = `
for (const name of ['reference', 'externalCopy', 'copy', 'promise', 'timeout', 'result', 'arguments', 'release',
  'transferIn', 'transferOut', 'transferList', 'accessors', 'unsafeInherit', 'async', 'ignored']) {
  Object.defineProperty(Object.prototype, name, { configurable: true, get() { throw new Error('isolated-vm read ' + name) } })
}`

let h: HostileHost

beforeAll(async () => {
  h = await startHostile({
    'function-constructor': attacker("return (this as any).constructor.constructor('return process')()"),
    'global-this': attacker(`const g = Function('return this')()
      return { same: g === globalThis, process: typeof g.process, require: typeof g.require, module: typeof g.module,
        viaConstructor: ({}).constructor.constructor('return typeof process + typeof require + typeof module')() }`),
    'require-by-name': attacker("return (globalThis as any)['req' + 'uire']('fs')"),
    'require-by-eval': attacker("return (0, eval)('require')('child_process')"),
    'import-by-eval': attacker(`return await (0, eval)('import("node:fs")')`),
    'import-by-function': attacker(`return await Function('return import("node:child_process")')()`),
    globals: attacker(`${ENUMERATE}\n      return { own, chain }`),
    'globals-at-load': attacker('return { own, chain }', ENUMERATE),
    'shared-memory': attacker(`return { sab: typeof (globalThis as any).SharedArrayBuffer, atomics: typeof (globalThis as any).Atomics,
      viaFunction: Function('return typeof SharedArrayBuffer + typeof Atomics')() }`),
    intrinsics: { source: attacker(`let overwritten = false
      try { JSON.stringify(1) } catch { overwritten = true }
      ctx.log.info('still logging')
      const stored = await ctx.kv.get('nothing')
      if (input.mode === 'throw') throw new RealError('thrown after the overwrite')
      return { echo: input.echo, stored, overwritten, calls }`, OVERWRITE_INTRINSICS), grants: { kv: true } },
    'polluted-options': { source: attacker(`ctx.log.info('logged through polluted options')
      return { echo: input.echo, stored: await ctx.kv.get('nothing'), calls }`, POLLUTE_OPTIONS), grants: { kv: true } },
    'tojson-spoof': attacker("throw new Error('a plain error')",
      "(Object.prototype as any).toJSON = function () { return { message: 'forged', code: 'ERR_SANDBOX_TIMEOUT' } }"),
    'tojson-identity': attacker('return { nested: { list: [1, 2], text: "t" }, calls }',
      '(Object.prototype as any).toJSON = function () { return this }'),
    'code-on-error': attacker("const e: any = new Error('x'); e.code = 'ERR_SANDBOX_TIMEOUT'; throw e"),
    'code-on-object': attacker("throw { message: 'x', code: 'ERR_SANDBOX_MEMORY_LIMIT' }"),
    'code-on-proxy': attacker("throw new Proxy(new Error('x'), { get: (t: any, k) => k === 'code' ? 'ERR_SANDBOX_CPU_LIMIT' : t[k] })"),
    'code-rewritten': attacker("try { await ctx.secrets.get('NOT_GRANTED') } catch (e: any) { e.code = 'ERR_SANDBOX_TIMEOUT'; throw e }"),
    'code-inherited': attacker("try { await ctx.secrets.get('NOT_GRANTED') } catch (e: any) { throw Object.create(e) }"),
    'call-sites': attacker(`(Error as any).prepareStackTrace = (_error: unknown, sites: any[]) => sites.map((s) => ({
        fn: typeof s.getFunction(), self: typeof s.getThis(), file: String(s.getFileName()) }))
      const sites = (new Error() as any).stack
      let hostSites: unknown
      try { await ctx.secrets.get('NOT_GRANTED') } catch (e: any) { hostSites = e.stack }
      return { sites, hostSites }`),
    'stack-text': attacker(`let hostStack = ''
      try { await ctx.secrets.get('NOT_GRANTED') } catch (e: any) { hostStack = String(e.stack) }
      return { own: String(new Error('x').stack), hostStack }`),
    'sloppy-caller': component(`  execute: Function('input', 'ctx', 'return { caller: String(arguments.callee.caller) }') as any,`),
    'sloppy-getter': component(`  execute() {
    const out: any = {}
    Object.defineProperty(out, 'caller', { enumerable: true, get: Function('return String(arguments.callee.caller)') as any })
    return out
  },`),
    impostor: component(`  async execute(_input: unknown, ctx: any) { ctx.log.info('impostor speaking'); return { impostor: true } },`, '', 'canary'),
    'raise-limits': {
      source: component(`  limits: { cpuMs: 1e9, timeoutMs: 1e9, memoryMb: 4096, hostCalls: 1e9, outputBytes: 1e9 },
  async execute(input: any) { calls++; if (input.attack) { for (;;) {} } return { calls } },`, 'let calls = 0'),
      limits: only('cpuMs'),
    },
  })
})
afterAll(() => h?.stop())
afterEach(async () => { await h.expectCanary() })

describe('Node and the host are out of reach', () => {
  it("this.constructor.constructor('return process')() finds no process", async () => {
    const error = await h.failure('function-constructor')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toMatch(/process is not defined/)
  })

  it("Function('return this')() is the isolate's own global, with no process, require or module", async () => {
    expect(await h.invoke('global-this', { attack: true })).toEqual({
      same: true, process: 'undefined', require: 'undefined', module: 'undefined', viaConstructor: 'undefinedundefinedundefined',
    })
  })

  it("globalThis['req' + 'uire'] is not defined at run time", async () => {
    expect((await h.failure('require-by-name')).code).toBe('ERR_COMPONENT_THREW')
  })

  it("eval('require') is not defined at run time", async () => {
    const error = await h.failure('require-by-eval')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toMatch(/require is not defined/)
  })

  it("import('node:fs') through eval is refused at run time", async () => {
    expect((await h.failure('import-by-eval')).code).toBe('ERR_COMPONENT_THREW')
  })

  it("import('node:child_process') through Function is refused at run time", async () => {
    expect((await h.failure('import-by-function')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('the global object and its prototype chain hold only standard built-ins: no host, isolated-vm or Node names', async () => {
    for (const name of ['globals', 'globals-at-load']) {
      const { own, chain } = await h.invoke(name, { attack: true }) as { own: string[]; chain: string[] }
      const all = new Set([...own, ...chain])
      for (const forbidden of FORBIDDEN) expect(all.has(forbidden), forbidden).toBe(false)
      expect(own.filter((n) => !STANDARD_GLOBALS.has(n) && !WEB_GLOBALS.has(n) && !n.startsWith('Symbol('))).toEqual([])
      // And every global sdk/globals.d.ts declares (what the deploy type-check accepts) is really there.
      expect([...WEB_GLOBALS].filter((n) => !own.includes(n))).toEqual([])
      expect(chain.filter((n) => !(n in Object.prototype) && !n.startsWith('Symbol('))).toEqual([])
    }
  })

  it('SharedArrayBuffer and Atomics (so Atomics.wait) are unavailable', async () => {
    expect(await h.invoke('shared-memory', { attack: true })).toEqual({ sab: 'undefined', atomics: 'undefined', viaFunction: 'undefinedundefined' })
  })

  it('the bootstrap is strict: a sloppy execute sees no caller', async () => {
    expect(await h.invoke('sloppy-caller')).toEqual({ caller: 'null' })
  })

  it('the bootstrap is strict: a sloppy getter run while the output is serialised sees no caller', async () => {
    expect(await h.invoke('sloppy-getter')).toEqual({ caller: 'null' })
  })

  it('Error.prepareStackTrace call sites expose no function or receiver, and only sandbox file names', async () => {
    const { sites, hostSites } = await h.invoke('call-sites', { attack: true }) as Record<string, { fn: string; self: string; file: string }[]>
    for (const site of [...sites!, ...hostSites!]) {
      expect(site.fn).toBe('undefined')
      expect(site.self).toBe('undefined')
      expect(site.file).toMatch(/^(component:call-sites|<isolated-vm>)$/)
    }
  })

  it('stack traces, the guest\'s own and those of errors the host sent, name no host path', async () => {
    const { own, hostStack } = await h.invoke('stack-text', { attack: true }) as { own: string; hostStack: string }
    for (const stack of [own, hostStack]) {
      expect(stack).not.toContain(process.cwd())
      expect(stack).not.toMatch(/node_modules|file:|node:|\.ts:/)
    }
  })

  it('a definition naming itself after another component is still known, invoked and logged under its own name', async () => {
    expect(await h.invoke('impostor')).toEqual({ impostor: true })
    await eventually(() => h.logs.some((l) => l.msg === 'impostor speaking'))
    expect(h.logs.filter((l) => l.msg === 'impostor speaking').map((l) => l.component)).toEqual(['impostor'])
    await h.expectCanary() // 'canary' is still the real canary
  })

  it('a component cannot raise its own limits: declaring cpuMs 1e9 is still stopped at the app\'s budget', async () => {
    await expectBreach(h, 'raise-limits', 'ERR_SANDBOX_CPU_LIMIT')
  })
})

describe('the bootstrap does not trust the intrinsics after guest code ran', () => {
  it('JSON, Array.prototype, Promise, Function.prototype.call/apply/bind, Reflect.apply and more overwritten: results still arrive', async () => {
    expect(await h.invoke('intrinsics', { attack: true, echo: { a: [1, 'two', { three: 3 }] } }))
      .toEqual({ echo: { a: [1, 'two', { three: 3 }] }, stored: null, overwritten: true, calls: 1 })
    await eventually(() => h.logs.some((l) => l.component === 'intrinsics' && l.msg === 'still logging'))
    const error = await h.failure('intrinsics', { attack: true, mode: 'throw' })
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toMatch(/^thrown after the overwrite \(index\.ts:\d+:\d+\)$/)
  })

  it('throwing getters on Object.prototype for every option name isolated-vm reads: host calls and results still work', async () => {
    expect(await h.invoke('polluted-options', { attack: true, echo: 'x' })).toEqual({ echo: 'x', stored: null, calls: 1 })
    await eventually(() => h.logs.some((l) => l.component === 'polluted-options' && l.msg === 'logged through polluted options'))
  })

  it('Object.prototype.toJSON returning this: the result arrives as written', async () => {
    expect(await h.invoke('tojson-identity', { attack: true })).toEqual({ nested: { list: [1, 2], text: 't' }, calls: 1 })
  })
})

describe('host error codes cannot be forged', () => {
  it("e.code = 'ERR_SANDBOX_TIMEOUT' on the component's own error is ERR_COMPONENT_THREW", async () => {
    const error = await h.failure('code-on-error')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
  })

  it('a thrown plain object carrying a sandbox code is ERR_COMPONENT_THREW', async () => {
    expect((await h.failure('code-on-object')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('a thrown Proxy answering a sandbox code is ERR_COMPONENT_THREW', async () => {
    expect((await h.failure('code-on-proxy')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('an Object.prototype.toJSON that rewrites the error description is ERR_COMPONENT_THREW, with the real message', async () => {
    const error = await h.failure('tojson-spoof')
    expect(error.code).toBe('ERR_COMPONENT_THREW')
    expect(error.message).toMatch(/^a plain error \(index\.ts:\d+:\d+\)$/)
  })

  it("a host error rethrown with its code rewritten keeps the host's code", async () => {
    expect((await h.failure('code-rewritten')).code).toBe('ERR_CAPABILITY_DENIED')
  })

  it("an object inheriting from a host error does not inherit the host's code", async () => {
    expect((await h.failure('code-inherited')).code).toBe('ERR_COMPONENT_THREW')
  })
})

describe('compile-time refusals', () => {
  let root: string
  beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'islet-hostile-compile-')) })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  const cases: Record<string, string> = {
    "import fs from 'fs'": "import fs from 'fs'\nexport default { execute: () => fs }",
    "import from 'node:child_process'": "import { execSync } from 'node:child_process'\nexport default { execute: () => execSync('id') }",
    "require('fs')": "const fs = require('fs')\nexport default { execute: () => fs }",
    "import('fs')": "export default { execute: async () => import('fs') }",
    "import('node:child_process')": "export default { execute: async () => import('node:child_process') }",
    'import.meta': 'export default { execute: () => import.meta.url }',
    'an import from outside the folder': "import x from '../outside.ts'\nexport default { execute: () => x }",
    'an absolute import': "import x from '/etc/passwd'\nexport default { execute: () => x }",
  }
  for (const [what, source] of Object.entries(cases)) {
    it(`${what} is refused with ERR_COMPONENT_IMPORT`, async () => {
      const dir = join(root, String(Object.keys(cases).indexOf(what)))
      mkdirSync(dir)
      writeFileSync(join(dir, 'index.ts'), source)
      writeFileSync(join(root, 'outside.ts'), 'export default 1')
      const error = await compileComponent(join(dir, 'index.ts')).then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(ComponentCompileError)
      expect((error as ComponentCompileError).diagnostics.map((d) => d.code)).toContain('ERR_COMPONENT_IMPORT')
    })
  }
})

describe('the definition itself', () => {
  it('a default export that is a Proxy whose traps loop fails the load on the deadline', async () => {
    const source = 'export default new Proxy({}, { get() { for (;;) {} } })\n'
    expect((await h.loadFailure(source, only('timeoutMs'))).code).toBe('ERR_SANDBOX_TIMEOUT')
  })

  it('a default export that is not a component fails the load as thrown', async () => {
    expect((await h.loadFailure('export default 42\n')).code).toBe('ERR_COMPONENT_THREW')
  })

  it('a schema getter that throws fails the load as thrown', async () => {
    expect((await h.loadFailure(component("  get input(): any { throw new Error('no schema') },\n  execute() { return {} },"))).code)
      .toBe('ERR_COMPONENT_THREW')
  })

  it('a definition too large to describe (over 1 MB of examples) fails the load', async () => {
    const source = component("  examples: Array.from({ length: 20_000 }, () => ({ input: 'x'.repeat(100) })),\n  execute() { return {} },")
    expect((await h.loadFailure(source)).code).toBe('ERR_COMPONENT_LOAD_FAILED')
  })

  it("eval('require') at module evaluation fails the load as thrown", async () => {
    expect((await h.loadFailure(component('  execute() { return {} },', "(0, eval)('require')"))).code).toBe('ERR_COMPONENT_THREW')
  })
})
