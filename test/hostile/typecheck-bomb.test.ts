// A deployment whose types make the checker build millions of types: the type check runs in a worker thread of the
// engine process, capped in heap (the engine's memory) and time. The bomb must end as a diagnostic on its own deploy,
// and a check queued behind it (another slot's deploy) must run and pass: a crash of the worker is the doing of the
// check it was running, not of every check it had.
import { afterAll, expect, it } from 'vitest'
import { setTypecheckHeapMb, stopTypecheck, typecheck } from '../../runtime/slots/typecheck.ts'

/** 200 mapped types of 10,000 template-literal keys each, all distinct: about 2 GB of checker state. */
const BOMB = "type D = '0'|'1'|'2'|'3'|'4'|'5'|'6'|'7'|'8'|'9'\n" +
  'type M<S extends string> = { [K in `${S}${D}${D}${D}${D}`]: [K, S] }\n' +
  Array.from({ length: 200 }, (_, i) => `export const v${i}: M<'p${i}'>['p${i}0000'] = null as any\nexport const w${i}: keyof M<'p${i}'> = null as any\n`).join('')

const FINE = `import { defineComponent } from '@islet/sdk'
export default defineComponent({ name: 'neighbour', execute: (input: { n: number }) => ({ doubled: input.n * 2 }) })
`

afterAll(async () => { await setTypecheckHeapMb(256); await stopTypecheck() })

it('a type bomb fails its own check with a memory diagnostic; the neighbour queued behind it passes', async () => {
  // A small cap, so the bomb reaches it in seconds (a real check of a component fits in 48 MB).
  await setTypecheckHeapMb(96)
  const bomb = typecheck('/tmp/islet-typecheck-bomb/', 'index.ts', { 'index.ts': BOMB }, { timeoutMs: 120_000 })
  const neighbour = typecheck('/tmp/islet-typecheck-neighbour/', 'index.ts', { 'index.ts': FINE }, { timeoutMs: 120_000 })
  const [b, n] = await Promise.all([bomb, neighbour])
  expect(b.error).toBeUndefined()
  expect(b.diagnostics.map((d) => [d.code, d.message])).toEqual([['ERR_COMPONENT_TYPE', 'the type check ran out of memory (96 MB)']])
  expect(n.error).toBeUndefined()
  expect(n.diagnostics).toEqual([])
}, 240_000)

it('code nested 50,000 deep overflows the checker\'s stack: a diagnostic on the deploy, no engine path, and the next check passes', async () => {
  // Before: no diagnostic; error "RangeError: Maximum call stack size exceeded\n    at … (/…/node_modules/typescript-checker/…)",
  // which validate reported as "the type check could not run … this is an Islet bug".
  const deep = await typecheck('/tmp/islet-typecheck-deep/', 'index.ts', { 'index.ts': 'export const x = ' + '('.repeat(50_000) + '1' + ')'.repeat(50_000) + '\n' })
  expect(deep.error).toBeUndefined()
  expect(deep.diagnostics.map((d) => [d.code, d.file, d.message])).toEqual([['ERR_COMPONENT_TYPE', 'index.ts', 'the code nests too deeply for the type checker (its stack overflowed)']])
  expect(JSON.stringify(deep)).not.toContain('node_modules')
  const next = await typecheck('/tmp/islet-typecheck-neighbour/', 'index.ts', { 'index.ts': FINE })
  expect(next.error).toBeUndefined()
  expect(next.diagnostics).toEqual([])
}, 120_000)
