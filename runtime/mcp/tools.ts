// The MCP tools Islet offers an agent, over AdminOps (ops.ts) so /admin/mcp and `islet mcp` answer alike. Each tool
// has a JSON Schema input (checked here with the engine's ajv: the low-level MCP Server does not check arguments)
// and answers with the JSON as text plus the same value as structuredContent; `isError` when the call was refused
// (scopes, unknown slot or version) or its outcome is a failure (a deploy that does not validate, an invocation
// that failed), always with the diagnostics or the coded error an agent can act on.
import type { Ajv, ValidateFunction } from 'ajv'
import type { DeployResult } from '@islet/sdk'
import { createAjv } from '../../plugins/core/ajv.ts'
import { codeOf, describeThrown } from '../errors.ts'
import type { AdminOps } from './ops.ts'
import { describePlatform } from './platform.ts'

export interface ToolResult {
  [key: string]: unknown
  content: { type: 'text'; text: string }[]
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

export interface ToolAnnotations {
  readOnlyHint?: boolean
  destructiveHint?: boolean
  idempotentHint?: boolean
  openWorldHint?: boolean
}

export interface Tool {
  name: string
  description: string
  inputSchema: { type: 'object'; properties: Record<string, object>; required?: string[]; additionalProperties?: boolean }
  annotations?: ToolAnnotations
  run(args: Record<string, unknown>, ops: AdminOps): Promise<ToolResult>
}

const SLOT = { type: 'string', minLength: 1, description: 'The slot name (describe_platform lists them).' }
const VERSION = { type: 'integer', minimum: 1, description: 'A version id of the slot (list_versions lists them).' }
const FILES = {
  type: 'object', minProperties: 1, additionalProperties: { type: 'string' },
  description: 'The component\'s files: relative path → full file content, e.g. {"index.ts": "import { defineComponent } from \'@islet/sdk\'\\n…"}. ' +
    'Only .ts/.mts/.js/.mjs/.json files; imports only @islet/sdk and relative files.',
}
const ENTRY = { type: 'string', minLength: 1, description: 'The entry file among files (default index.ts).' }

/** The value as the tool's answer: its JSON as text, the same value as structuredContent. */
export function answer(value: Record<string, unknown>, isError = false): ToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value, ...(isError ? { isError: true } : {}) }
}

/** A refusal or failure as the tool's answer: {error: {code, message, details?}}, isError. */
export function refused(error: unknown): ToolResult {
  const details = (error as { details?: unknown }).details
  const hasDetails = typeof details === 'object' && details !== null && Object.keys(details).length > 0
  return answer({ error: { code: codeOf(error, 'ERR_INTERNAL'), message: describeThrown(error), ...(hasDetails ? { details } : {}) } }, true)
}

const deployAnswer = (result: DeployResult) => answer(result as unknown as Record<string, unknown>, !result.ok)

export const TOOLS: readonly Tool[] = [
  {
    name: 'describe_platform',
    description: 'Call this first. Explains how to write an Islet component (the @islet/sdk types, the globals available inside the sandbox), ' +
      'lists the deploy slots with what each lets deployed code reach (grants, limits, who may deploy, whether examples are required) and ' +
      'gives a worked example component that passes validation. Then: validate → deploy (promote: true) → invoke.',
    inputSchema: { type: 'object', additionalProperties: false, properties: { slot: { ...SLOT, description: 'Name the worked example after this slot (default: the first slot).' } } },
    annotations: { readOnlyHint: true },
    async run(args, ops) {
      const d = await describePlatform(() => ops.slots(), args.slot as string | undefined)
      return {
        content: [{ type: 'text', text: d.text }],
        structuredContent: { slots: d.slots, ...(d.slotsError ? { slotsError: d.slotsError } : {}), globals: d.globals, example: d.example },
      }
    },
  },
  {
    name: 'validate',
    description: 'Dry run: checks the files as a deploy to the slot would (files, compile, typecheck, schemas, ceiling against the slot\'s grants ' +
      'and limits, examples run in the sandbox) and stores nothing. Result: {ok, steps: [{name, status, ms}], diagnostics: [{code, severity, ' +
      'message, file, line, column, endLine, endColumn, hint, replacement?}]}. ok false (isError) lists every problem at once: fix them all ' +
      '(apply `replacement` where given), then validate again.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['slot', 'files'], properties: { slot: SLOT, files: FILES, entry: ENTRY } },
    annotations: { readOnlyHint: true, idempotentHint: true },
    async run(args, ops) {
      return deployAnswer(await ops.deploy(args.slot as string, { files: args.files as Record<string, string>, entry: args.entry as string | undefined, dryRun: true }))
    },
  },
  {
    name: 'deploy',
    description: 'Validates the files and stores them as a new version of the slot (status staged; rejected when validation fails, with its ' +
      'diagnostics). With promote: true a version that validates goes live at once (hot swap, no request fails). Result: the DeployResult ' +
      '{ok, steps, diagnostics, version: {id, hash, status, …}, promoted}. Validate first to iterate cheaply.',
    inputSchema: {
      type: 'object', additionalProperties: false, required: ['slot', 'files'],
      properties: {
        slot: SLOT, files: FILES, entry: ENTRY,
        promote: { type: 'boolean', default: false, description: 'Make the version live when it validates.' },
        message: { type: 'string', maxLength: 2000, description: 'Kept with the version: what changed and why.' },
      },
    },
    annotations: { destructiveHint: true },
    async run(args, ops) {
      return deployAnswer(await ops.deploy(args.slot as string, {
        files: args.files as Record<string, string>, entry: args.entry as string | undefined, promote: args.promote === true,
        message: args.message as string | undefined,
      }))
    },
  },
  {
    name: 'promote',
    description: 'Makes a staged (or earlier) version of the slot live: prepared (compiled, initialised, examples run), then swapped in while ' +
      'requests keep being served. Result: the DeployResult with promoted: true.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['slot', 'version'], properties: { slot: SLOT, version: VERSION } },
    annotations: { destructiveHint: true, idempotentHint: true },
    async run(args, ops) { return deployAnswer(await ops.promote(args.slot as string, args.version as number)) },
  },
  {
    name: 'rollback',
    description: 'Makes the version that was live before the current one live again (or version `to`). Use after a promote that misbehaves. ' +
      'Result: the DeployResult of the version now live.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['slot'], properties: { slot: SLOT, to: { ...VERSION, description: 'The version to make live (default: the previous live one).' } } },
    annotations: { destructiveHint: true },
    async run(args, ops) { return deployAnswer(await ops.rollback(args.slot as string, args.to as number | undefined)) },
  },
  {
    name: 'invoke',
    description: 'Runs the slot\'s live version with `input`, as a pipeline would (its real grants and limits). Result: {ok, version, output, ms} ' +
      'or {ok: false, error: {code, message, diagnostics?}} (isError). Check the output, then tail_logs for what it logged.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['slot', 'input'], properties: { slot: SLOT, input: { description: 'The JSON input.' } } },
    async run(args, ops) {
      const result = await ops.invoke(args.slot as string, args.input)
      return answer(result as unknown as Record<string, unknown>, !result.ok)
    },
  },
  {
    name: 'list_versions',
    description: 'The slot\'s versions, newest last: {id, hash, author, createdAt, status (rejected|staged|live|retired), entry, message, files, ' +
      'diagnostics}. Use the ids with promote, rollback, get_source and diff.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['slot'], properties: { slot: SLOT } },
    annotations: { readOnlyHint: true },
    async run(args, ops) {
      const slot = args.slot as string
      const [info, versions] = await Promise.all([ops.slot(slot), ops.versions(slot)])
      return answer({ slot, live: info.live, versions })
    },
  },
  {
    name: 'get_source',
    description: 'The files of one version of the slot ({path: content}); without `version`, the live one. Start from it to change what is deployed.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['slot'], properties: { slot: SLOT, version: { ...VERSION, description: 'Default: the live version.' } } },
    annotations: { readOnlyHint: true },
    async run(args, ops) {
      const slot = args.slot as string
      const version = (args.version as number | undefined) ?? (await ops.slot(slot)).live
      if (version === null) return answer({ error: { code: 'ERR_SLOT_EMPTY', message: `slot ${slot} has no live version: pass a version (list_versions lists them)` } }, true)
      return answer({ slot, version, files: await ops.source(slot, version) })
    },
  },
  {
    name: 'diff',
    description: 'A unified diff (git style) of the slot\'s files from version `from` to version `to`.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['slot', 'from', 'to'], properties: { slot: SLOT, from: VERSION, to: VERSION } },
    annotations: { readOnlyHint: true },
    async run(args, ops) {
      const { slot, from, to } = args as { slot: string; from: number; to: number }
      return answer({ slot, from, to, diff: await ops.diff(slot, from, to) })
    },
  },
  {
    name: 'tail_logs',
    description: 'The slot\'s latest log lines (ctx.log, console, call failures): {entries: [{seq, at, level, message, version, fields}], next}. ' +
      'Pass `next` back as `after` to get only newer lines.',
    inputSchema: {
      type: 'object', additionalProperties: false, required: ['slot'],
      properties: {
        slot: SLOT,
        after: { type: 'integer', minimum: 0, description: 'Only lines with a larger seq.' },
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
      },
    },
    annotations: { readOnlyHint: true },
    async run(args, ops) {
      const slot = args.slot as string
      const entries = await ops.logs(slot, { after: args.after as number | undefined, limit: args.limit as number | undefined })
      return answer({ slot, entries, next: entries.at(-1)?.seq ?? (args.after as number | undefined) ?? 0 })
    },
  },
]

/**
 * deploy answers `version: {id, hash, …}` while promote, rollback, get_source and diff take a version id: an agent
 * that passes the object on gets told which number to send.
 */
function versionObjectHint(args: unknown, pointer: string): string {
  let value: unknown = args
  for (const key of pointer.split('/').slice(1)) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
  const id = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).id : undefined
  return Number.isInteger(id) ? `, got a version object: pass its id, ${String(id)}` : ''
}

let ajv: Ajv | undefined
const validators = new Map<string, ValidateFunction>()

/** Runs tool `name` with `args`: unknown tools and bad arguments are refusals an agent can correct, like any other. */
export async function callTool(name: string, args: Record<string, unknown>, ops: AdminOps): Promise<ToolResult> {
  const tool = TOOLS.find((t) => t.name === name)
  if (!tool) {
    return answer({ error: { code: 'ERR_MCP_TOOL_UNKNOWN', message: `no tool ${JSON.stringify(name)}; the tools are ${TOOLS.map((t) => t.name).join(', ')}` } }, true)
  }
  let validate = validators.get(name)
  if (!validate) {
    ajv ??= createAjv('meta', { allErrors: true, useDefaults: true })
    validate = ajv.compile(tool.inputSchema)
    validators.set(name, validate)
  }
  const copy = structuredClone(args)
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(arguments)'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}${versionObjectHint(copy, e.instancePath)}`)
    return answer({ error: { code: 'ERR_MCP_TOOL_INPUT', message: `the arguments of ${name} do not match its input schema: ${problems.join('; ')}`, details: { problems } } }, true)
  }
  try {
    return await tool.run(copy, ops)
  } catch (error) {
    return refused(error)
  }
}
