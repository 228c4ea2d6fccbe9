// The diff between two versions of a slot (GET …/diff), git style, computed in the engine's event loop — so bounded.
// jsdiff's Myers diff costs O((N+M)·D): two 10,000-line files with nothing in common took 85 s here, holding every
// request the engine serves. Each file gets what is left of one time budget per diff; a file too different to diff in
// it is shown whole (every old line removed, every new one added), which is still a correct patch.
import { createRequire } from 'node:module'
import type { DeployFiles } from '@islet/sdk'

/** Event-loop time one diff may spend in jsdiff, all files together. */
export const DIFF_BUDGET_MS = 250

// jsdiff loads with the first diff asked for, not with the engine (test/start-imports.test.ts keeps start-up lean).
let jsdiff: typeof import('diff') | undefined
const diffLib = (): typeof import('diff') => jsdiff ??= createRequire(import.meta.url)('diff') as typeof import('diff')

export function diffVersions(a: DeployFiles, b: DeployFiles): string {
  const parts: string[] = []
  const deadline = performance.now() + DIFF_BUDGET_MS
  for (const path of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (a[path] === b[path]) continue
    const oldName = a[path] === undefined ? '/dev/null' : `a/${path}`
    const newName = b[path] === undefined ? '/dev/null' : `b/${path}`
    const left = Math.floor(deadline - performance.now())
    // `timeout`: jsdiff gives up (undefined) past it.
    const patch = (left > 0 ? diffLib().createTwoFilesPatch(oldName, newName, a[path] ?? '', b[path] ?? '', undefined, undefined, { context: 3, timeout: left }) : undefined)
      ?? wholeFile(oldName, newName, a[path] ?? '', b[path] ?? '')
    // Git style: a `diff --git` line per file, jsdiff's Index/=== header dropped.
    parts.push(`diff --git a/${path} b/${path}\n${patch.split('\n').filter((l) => !l.startsWith('Index:') && !l.startsWith('====')).join('\n')}`)
  }
  return parts.join('')
}

/** A unified diff replacing the whole of `before` by `after` (linear time), as jsdiff formats one. */
function wholeFile(oldName: string, newName: string, before: string, after: string): string {
  const lines = (text: string, mark: string): string[] => {
    if (text === '') return []
    const body = text.endsWith('\n') ? text.slice(0, -1) : text
    const out = body.split('\n').map((l) => mark + l)
    if (!text.endsWith('\n')) out.push('\\ No newline at end of file')
    return out
  }
  const removed = lines(before, '-')
  const added = lines(after, '+')
  const count = (l: string[]) => l.filter((x) => !x.startsWith('\\')).length
  const range = (n: number) => `${n === 0 ? 0 : 1},${n}`
  return [`--- ${oldName}`, `+++ ${newName}`, `@@ -${range(count(removed))} +${range(count(added))} @@`, ...removed, ...added, ''].join('\n')
}
