// What a reload restarts: changed declarations, changed referenced pipelines, dependents of replaced modules.
import { describe, expect, it } from 'vitest'
import { DEFAULT_SANDBOX } from '../config/component-schema.ts'
import type { AppConfig, ModuleDecl, PipelineDecl } from '../config/types.ts'
import { buildGraph } from './graph.ts'
import { planReload } from './reload-plan.ts'

interface M { name: string; type?: string; config?: unknown; dependsOn?: string[]; pipelines?: string[]; line?: number; file?: string }

function config(modules: M[], pipelines: Record<string, { body: unknown; uses?: string[]; line?: number }> = {}): AppConfig {
  const decls: ModuleDecl[] = modules.map((m) => ({
    name: m.name, type: m.type ?? 't.any', config: m.config ?? {}, dependsOn: m.dependsOn ?? [],
    refs: { modules: [], pipelines: m.pipelines ?? [] }, source: { file: m.file ?? '/app/app.yaml', line: m.line ?? 1, col: 5 },
  }))
  const decl = (name: string, p: { body: unknown; uses?: string[]; line?: number }): PipelineDecl => ({
    name, source: { file: '/app/app.yaml', line: p.line ?? 40, col: 3 },
    steps: [{ kind: 'step', name: 'respond', type: 'respond', config: { body: p.body }, refs: { modules: p.uses ?? [], pipelines: [] },
      source: { file: '/app/app.yaml', line: (p.line ?? 40) + 2, col: 7 } }],
  })
  return {
    apiVersion: 'islet/v1', file: '/app/app.yaml', files: ['/app/app.yaml'], modules: decls, components: [], sandbox: DEFAULT_SANDBOX,
    hash: 'h', pipelines: Object.fromEntries(Object.entries(pipelines).map(([n, p]) => [n, decl(n, p)])),
  }
}

const plan = (prev: AppConfig, next: AppConfig) => planReload(prev, next, buildGraph(next))

const http = (o: { prefix?: string; body?: unknown; line?: number } = {}) => config([
  { name: 'db' },
  { name: 'api', type: 'http.router', config: { prefix: o.prefix ?? '/v1' }, pipelines: ['get'] },
  { name: 'web', type: 'http.server', config: { routers: ['api'] }, dependsOn: ['api'] },
  { name: 'cron' },
], { get: { body: o.body ?? 1, uses: ['db'], line: o.line } })

describe('planReload', () => {
  it('keeps everything when nothing changed', () => {
    expect(plan(http(), http())).toMatchObject({ added: [], restarted: [], removed: [], kept: new Set(['db', 'api', 'web', 'cron']) })
  })

  it('restarts a changed module and, transitively, what depends on it', () => {
    const p = plan(http(), http({ prefix: '/v2' }))
    expect(p.restarted).toEqual(['api', 'web'])
    expect(p.reasons.get('api')).toBe('its declaration changed')
    expect(p.reasons.get('web')).toBe("its dependency 'api' is replaced")
    expect([...p.kept]).toEqual(['db', 'cron'])
  })

  it('restarts the modules referencing a changed pipeline (and the server listing the router)', () => {
    const p = plan(http(), http({ body: 2 }))
    expect(p.restarted).toEqual(['api', 'web'])
    expect(p.reasons.get('api')).toBe("pipeline 'get' changed")
  })

  it('ignores moved lines and key order, but not a move to another file', () => {
    const moved = http({ line: 90 })
    expect(plan(http(), moved).restarted).toEqual([])
    const reordered = config([{ name: 'a', config: { x: 1, y: { p: 1, q: 2 } } }])
    expect(plan(config([{ name: 'a', config: { y: { q: 2, p: 1 }, x: 1 } }]), reordered).restarted).toEqual([])
    expect(plan(config([{ name: 'a' }]), config([{ name: 'a', file: '/app/other.yaml' }])).restarted).toEqual(['a'])
  })

  it('adds new modules, removes dropped ones, restarts on a type change', () => {
    const p = plan(config([{ name: 'a' }, { name: 'b' }]), config([{ name: 'a', type: 't.other' }, { name: 'c', dependsOn: ['a'] }]))
    expect(p).toMatchObject({ added: ['c'], restarted: ['a'], removed: ['b'] })
    expect(p.reasons.get('a')).toBe('type changed from t.any to t.other')
    expect(p.reasons.get('c')).toBe('new')
  })

  it('a changed dependsOn list restarts the module', () => {
    expect(plan(config([{ name: 'a' }, { name: 'b' }]), config([{ name: 'a' }, { name: 'b', dependsOn: ['a'] }])).restarted).toEqual(['b'])
  })
})
