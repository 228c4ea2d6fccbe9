// What a deployment's paths must also satisfy to be written out as a folder (store.ts writes each version's tree for
// the compiler), beyond the validator's own path rules (checkDeployFiles): file systems refuse some names that are
// valid strings — a segment over 255 bytes (UTF-8: 200 characters can be 400 bytes), a path past PATH_MAX — and a
// set of paths can contradict itself (`lib.ts` as a file and as the folder of `lib.ts/x.ts`; `A.ts` and `a.ts`, one
// file on a case-insensitive disk). Checked here, in the service, whichever validator is plugged in, so that such a
// deployment is a located ERR_DEPLOY_FILES refusal (422, audited) and never an fs error (500) half-way through the tree.
import type { DeployFiles, Diagnostic } from '@islet/sdk'

/** NAME_MAX on Linux and macOS. */
const MAX_SEGMENT_BYTES = 255
/** Well under PATH_MAX (4096) once the data dir and trees/<slot>/<sha256>/ are in front. */
const MAX_PATH_BYTES = 1024
const MAX_DEPTH = 32
// Control characters would let a file name forge lines of the `file:line:col` diagnostics the CLI prints.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

const problem = (message: string, hint: string, file: string | null): Diagnostic =>
  ({ code: 'ERR_DEPLOY_FILES', severity: 'error', message, file, line: null, column: null, hint })

/** A printable, bounded rendering of a path for a message (control characters escaped, long paths cut). */
const shown = (path: string) => JSON.stringify(path.length > 120 ? `${path.slice(0, 120)}…` : path)

/** One ERR_DEPLOY_FILES diagnostic per path that cannot be part of a folder on disk, with how to fix it. */
export function checkTreePaths(files: DeployFiles): Diagnostic[] {
  const out: Diagnostic[] = []
  const paths = Object.keys(files)
  const folded = new Map<string, string>()
  const all = new Set(paths)
  for (const path of paths) {
    const at = CONTROL.test(path) || path.length > 120 ? null : path
    if (CONTROL.test(path)) {
      out.push(problem(`the path ${shown(path)} holds a control or line-separator character`, 'name files with printable characters, e.g. lib/rates.ts', null))
      continue
    }
    const segments = path.split('/')
    const long = segments.find((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)
    if (Buffer.byteLength(path) > MAX_PATH_BYTES || long !== undefined || segments.length > MAX_DEPTH) {
      out.push(problem(`the path ${shown(path)} is too long for a file system: at most ${MAX_SEGMENT_BYTES} bytes per name, ${MAX_PATH_BYTES} bytes and ${MAX_DEPTH} folders deep in all`,
        'use shorter file and folder names', at))
      continue
    }
    // A file that is also the folder of another file.
    for (let i = 1; i < segments.length; i++) {
      const folder = segments.slice(0, i).join('/')
      if (all.has(folder)) {
        out.push(problem(`${shown(folder)} is sent as a file and is also the folder of ${shown(path)}`, `rename one of them (e.g. ${folder.replace(/\.[^./]+$/, '')}/index.ts)`, at))
        break
      }
    }
    // Case-insensitive and Unicode-normalising disks (macOS) would make two such paths one file.
    const key = path.normalize('NFC').toLowerCase()
    const other = folded.get(key)
    if (other !== undefined) {
      out.push(problem(`${shown(other)} and ${shown(path)} differ only in letter case or Unicode normalisation: they would be one file on some disks`,
        'give each file a name that differs in more than case', at))
    } else folded.set(key, path)
  }
  return out
}
