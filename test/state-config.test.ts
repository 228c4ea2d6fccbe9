// A state machine's config is checked when it loads, each problem at its file:line:col with a fix: states a
// transition names, the initial state, a timeout's event, a terminal state with a way out, guard expressions; an
// unreachable state is a warning (the app still loads).
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../runtime/config/load.ts'
import { createBuiltinRegistry } from '../runtime/builtins.ts'
import { writeFiles } from './support/files.ts'

async function load(machine: string) {
  const { dir, cleanup } = writeFiles({ 'app.yaml': `apiVersion: islet/v1
modules:
  - name: orders
    type: state.machine
    config:
${machine}` })
  try {
    return await loadConfig(join(dir, 'app.yaml'), { registry: createBuiltinRegistry(), env: {} })
  } finally {
    cleanup()
  }
}

const brief = (d: { code: string; severity: string; line: number; col: number; message: string }) => `${d.line}:${d.col} ${d.severity} ${d.code} ${d.message}`

describe('state.machine config checks', () => {
  it('reports a transition to an unknown state, an unknown initial state and a timeout event its state lacks, at their places', async () => {
    const { config, diagnostics } = await load(`      initial: draft
      states:
        new:
          timeout: { after: 15m, event: expire }
          on:
            pay: paid
            cancel: { to: canceled }
            retry: [{ to: new, guard: '\${{ payload.n < 3 }}' }, { to: lost }]
        paid: { terminal: true }
        cancelled: { terminal: true }
`)
    expect(config).toBeUndefined()
    expect(diagnostics.map(brief)).toEqual([
      "6:16 error ERR_CONFIG_MODULE_CHECK initial state 'draft' is not a state of this machine",
      "9:41 error ERR_CONFIG_MODULE_CHECK the timeout of state 'new' fires event 'expire', which state 'new' has no transition for",
      "12:27 error ERR_CONFIG_MODULE_CHECK transition 'cancel' from state 'new' goes to 'canceled', which is not a state of this machine",
      "13:71 error ERR_CONFIG_MODULE_CHECK transition 'retry' from state 'new' goes to 'lost', which is not a state of this machine",
    ])
    expect(diagnostics[0]!.hint).toBe('declared states: new, paid, cancelled')
    expect(diagnostics[1]!.hint).toBe("events of 'new': pay, cancel, retry; or add on: { expire: <state> }")
  })

  it('an unreachable state is a warning and the config loads; a terminal state with transitions is an error', async () => {
    const unreachable = await load(`      initial: new
      states:
        new: { on: { done: closed } }
        closed: { terminal: true }
        limbo: { on: { back: new } }
`)
    expect(unreachable.config).toBeDefined()
    expect(unreachable.diagnostics.map(brief)).toEqual([
      "10:9 warning ERR_CONFIG_MODULE_CHECK state 'limbo' cannot be reached: no transition from the initial state 'new' leads to it",
    ])
    const terminal = await load(`      initial: new
      states:
        new: { on: { done: closed } }
        closed: { terminal: true, on: { reopen: new } }
`)
    expect(terminal.diagnostics.map(brief)).toEqual([
      "9:35 error ERR_CONFIG_MODULE_CHECK state 'closed' is terminal but has transitions (reopen)",
    ])
  })

  it('a timeout longer than ten years is refused at its after:, written as a duration or as milliseconds', async () => {
    const { config, diagnostics } = await load(`      initial: new
      states:
        new:
          timeout: { after: 4000d, event: expire }
          on: { expire: old, keep: kept }
        kept:
          timeout: { after: 100000000000000000, event: expire }
          on: { expire: old }
        old: { terminal: true }
`)
    expect(config).toBeUndefined()
    expect(diagnostics.map(brief)).toEqual([
      "9:29 error ERR_CONFIG_MODULE_CHECK the timeout of state 'new' is longer than 3650d",
      "12:29 error ERR_CONFIG_MODULE_CHECK the timeout of state 'kept' is longer than 3650d",
    ])
  })

  it('a guard that does not parse or names an unknown variable is reported inside the expression', async () => {
    const { diagnostics } = await load(`      initial: new
      states:
        new:
          on:
            pay: { to: paid, guard: '\${{ payload.amount >= }}' }
            ship: { to: paid, guard: '\${{ dat.total > 0 }}' }
        paid: { terminal: true }
`)
    expect(diagnostics.map((d) => [d.code, d.line, d.path])).toEqual([
      ['ERR_CONFIG_EXPRESSION', 10, 'modules.0.config.states.new.on.pay.guard'],
      ['ERR_CONFIG_EXPRESSION', 11, 'modules.0.config.states.new.on.ship.guard'],
    ])
    expect(diagnostics[1]!.message).toContain("unknown variable 'dat'")
  })
})
