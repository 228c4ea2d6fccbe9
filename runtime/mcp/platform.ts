// describe_platform: what an agent needs before writing a component, read at run time from the installed sdk so it
// cannot drift from what the type check and the sandbox enforce: the component types (sdk/component.ts, the
// JsonSchema type), the isolate's globals (sdk/globals.d.ts, when this build has it), the slots with their ceilings,
// and a worked example that passes validation.
import { readFile } from 'node:fs/promises'
import type { SlotInfo } from '@islet/sdk'
import { workedExample } from './worked-example.ts'

const SDK = new URL('../../sdk/', import.meta.url)

export interface PlatformDescription {
  /** The whole description as Markdown: what the tool's text content carries. */
  text: string
  slots: SlotInfo[]
  /** Why the slots could not be listed (e.g. the caller's scopes), when they could not. */
  slotsError?: { code: string; message: string }
  globals: string[]
  example: { slot: string | null; files: Record<string, string>; entry: string }
}

/** Names declared at the top level of a .d.ts (`declare function URL…`, `declare var crypto…`, `declare class …`). */
export function declaredGlobals(dts: string): string[] {
  const names = new Set<string>()
  for (const m of dts.matchAll(/^\s*declare\s+(?:var|let|const|function|class|namespace|abstract\s+class)\s+([A-Za-z_$][\w$]*)/gm)) names.add(m[1]!)
  return [...names].sort()
}

async function sdkFile(name: string): Promise<string | undefined> {
  try {
    return await readFile(new URL(name, SDK), 'utf8')
  } catch {
    return undefined
  }
}

export async function describePlatform(listSlots: () => Promise<SlotInfo[]>, focus?: string): Promise<PlatformDescription> {
  let slots: SlotInfo[] = []
  let slotsError: PlatformDescription['slotsError']
  try {
    slots = await listSlots()
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown }
    slotsError = { code: typeof e.code === 'string' ? e.code : 'ERR_INTERNAL', message: String(e.message ?? error) }
  }
  const [component, schema, globalsDts] = await Promise.all([sdkFile('component.ts'), sdkFile('schema.ts'), sdkFile('globals.d.ts')])
  const globals = globalsDts ? declaredGlobals(globalsDts) : []
  const chosen = slots.find((s) => s.name === focus) ?? slots[0]
  const exampleName = focus ?? chosen?.name ?? 'cart-total'
  const example = { slot: focus ?? chosen?.name ?? null, files: { 'index.ts': workedExample(exampleName) }, entry: 'index.ts' }
  const jsonSchemaType = schema?.match(/\/\*\*[^]*?\*\/\s*export type JsonSchema[^\n]*\n/)?.[0] ?? ''

  const text = [
    '# Islet: deploying a component into a slot',
    '',
    'A component is one TypeScript module (plus relative imports) whose default export is `defineComponent({...})` from `@islet/sdk`.',
    'It runs in an isolated V8 isolate: no Node built-ins (`fs`, `net`, `process`, `Buffer`), no npm packages, no DOM.',
    'Storage, HTTP, events and secrets go through `ctx` (ctx.kv, ctx.fetch, ctx.emit, ctx.secrets), and only as far as the slot grants.',
    '',
    '## How to deploy',
    '1. `validate` with your files: every step runs (files, compile, typecheck, schemas, ceiling, examples) and each problem comes back',
    '   as a diagnostic {code, severity, message, file, line, column, endLine, endColumn, hint, replacement?}. Fix them all, then validate again.',
    '2. `deploy` with `promote: true` (or deploy, then `promote` the version id it returns). Promotion is a hot swap: no request fails.',
    '3. `invoke` the slot with a test input; `tail_logs` shows its ctx.log / console lines; `rollback` undoes a bad promote.',
    '',
    'Rules the validation enforces: imports only `@islet/sdk` and relative files; `capabilities` (and `limits`) in the definition must stay',
    'within the slot\'s grants (and limits) below; examples are required unless the slot says otherwise, run in the sandbox with throwaway',
    'capabilities, and their outputs must be plain JSON (no Map, Set, Date, undefined, class instances); kv writes must be awaited.',
    '',
    '## Slots',
    slotsError ? `(cannot list the slots: ${slotsError.code}: ${slotsError.message})` : slots.length === 0 ? '(this app declares no slots: add `components: - slot: <name>` to its YAML)' : '',
    ...slots.map((s) => [
      `### ${s.name}${s.live === null ? ' (empty)' : ` (live version ${s.live})`}`,
      s.description ? s.description : '',
      `- grants (the ceiling of \`capabilities\`): ${JSON.stringify(s.grants)}`,
      `- limits (the ceiling of \`limits\`): ${JSON.stringify(s.limits)}`,
      `- deployers (scopes that may deploy, promote, roll back, invoke): ${JSON.stringify(s.deployers)}`,
      `- examples: ${s.examplesRequired ? 'required' : 'optional'}`,
    ].filter(Boolean).join('\n')),
    '',
    '## Globals inside the isolate',
    globals.length > 0
      ? `Besides the ECMAScript built-ins: ${globals.join(', ')}.`
      : 'Only the ECMAScript built-ins (this build has no sdk/globals.d.ts): no fetch, URL, setTimeout or console; use ctx.',
    '',
    '## Types (from @islet/sdk, sdk/component.ts)',
    '```ts',
    jsonSchemaType.trim(),
    '',
    // Its own imports are the sdk's internals: a component imports from '@islet/sdk'.
    (component ?? '(sdk/component.ts is not readable in this installation)').replace(/^import .*\n/gm, '').trim(),
    '```',
    ...(globalsDts ? ['', '## Globals declarations (sdk/globals.d.ts)', '```ts', globalsDts.trim(), '```'] : []),
    '',
    `## Worked example (passes validation${example.slot ? ` in slot ${example.slot}` : ''}): files {"index.ts": …}, entry "index.ts"`,
    '```ts',
    example.files['index.ts'].trim(),
    '```',
  ].join('\n')
  return { text, slots, ...(slotsError ? { slotsError } : {}), globals, example }
}
