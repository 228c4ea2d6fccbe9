// The component check `islet registry serve` gives the server (its `checkComponents`): the registry never imports the
// runtime, so the CLI lends it the runtime's compiler. Each component a package declares is compiled from the
// tarball's own files, as the engine would compile it, and every problem comes back located inside the package
// (components/geocode.ts:3:7), not in the temporary folder it was compiled in.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { IsletField } from '../../registry/manifest.ts'
import { compileComponent, ComponentCompileError } from '../components/compile.ts'
import { codeOf, messageOf } from '../errors.ts'
import type { PackageProblem } from './registry-parts.ts'

export async function checkComponents(files: Map<string, Buffer>, pkg: { name: string; version: string; islet: IsletField }): Promise<PackageProblem[]> {
  const components = Object.entries(pkg.islet.components ?? {})
  if (components.length === 0) return []
  const root = mkdtempSync(join(tmpdir(), 'islet-registry-check-'))
  try {
    for (const [path, bytes] of files) {
      const inside = path.replace(/^package\//, '')
      const target = resolve(root, inside)
      // The server refuses unsafe paths before this; a path that still climbs out is not written, whatever it is.
      if (!target.startsWith(root + sep)) continue
      mkdirSync(dirname(target), { recursive: true })
      writeFileSync(target, bytes)
    }
    const problems: PackageProblem[] = []
    for (const [name, c] of components) {
      const entry = resolve(root, c.file)
      if (!entry.startsWith(root + sep) || !files.has(c.file) && !files.has(`package/${c.file}`)) {
        problems.push({ file: 'package.json', code: 'ERR_CONFIG_COMPONENT_NOT_FOUND', message: `islet.components.${name}.file '${c.file}' is not in the package; add it to "files" in package.json or fix the path` })
        continue
      }
      try {
        await compileComponent(entry)
      } catch (error) {
        if (error instanceof ComponentCompileError) {
          for (const d of error.diagnostics) {
            const file = d.file ? relative(root, d.file) : c.file
            problems.push({ file: file.startsWith('..') ? c.file : file.split(sep).join('/'), line: d.line, column: d.col, code: d.code, message: `component '${name}': ${d.message}`, ...(d.hint ? { hint: d.hint } : {}) })
          }
        } else problems.push({ file: c.file, code: codeOf(error, 'ERR_COMPONENT_COMPILE'), message: `component '${name}' could not be compiled: ${messageOf(error)}` })
      }
    }
    return problems
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
