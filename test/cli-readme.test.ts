// The README's tour shows real `islet` output: this runs the tour's commands on the edits its prose describes and
// compares with the text, so a README that drifts from the CLI (a line number, a message) fails here.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { islet } from './support/cli.ts'

const ROOT = join(import.meta.dirname, '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** Step 2 of the tour: each edit its prose asks for (applied to the pristine example), then the block showing the result. */
function tourSteps(): { from: string; to: string; command: string[]; output: string }[] {
  const start = README.indexOf('**2. Break the YAML')
  const section = README.slice(start, README.indexOf('**3.', start))
  const edits = [...section.matchAll(/change `([^`]+)` to\s+`([^`]+)`|\(`([^`]+)` → `([^`]+)`\)/g)]
    .map((m) => ({ from: m[1] ?? m[3]!, to: m[2] ?? m[4]! }))
  const blocks = [...section.matchAll(/```\n\$ \.\/node_modules\/\.bin\/islet (.+)\n([\s\S]*?)```/g)]
    .map((m) => ({ command: m[1]!.split(' '), output: m[2]! }))
  expect(edits.length, 'the tour asks for edits').toBeGreaterThan(0)
  expect(blocks.length, 'one output block per edit').toBe(edits.length)
  return edits.map((e, i) => ({ ...e, ...blocks[i]! }))
}

describe('README tour', () => {
  it('shows the output islet prints for each edit it describes', () => {
    for (const step of tourSteps()) {
      const dir = mkdtempSync(join(tmpdir(), 'islet-tour-'))
      try {
        cpSync(join(ROOT, 'examples', 'orders'), join(dir, 'examples', 'orders'), { recursive: true })
        const file = join(dir, 'examples', 'orders', 'app.yaml')
        const text = readFileSync(file, 'utf8')
        expect(text, `the example holds '${step.from}'`).toContain(step.from)
        writeFileSync(file, text.replace(step.from, step.to))
        const r = islet(step.command, { cwd: dir })
        expect(r.stdout + r.stderr, `islet ${step.command.join(' ')} after ${step.from} → ${step.to}`).toBe(step.output)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  })
})
