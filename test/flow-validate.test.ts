// `islet validate` on block steps: the steps inside a block get every check a pipeline's own steps get, at their
// file:line:col, and block steps' own rules (a block where none is taken, a transaction's steps) are checked too.
import { describe, expect, it } from 'vitest'
import { isletAsync } from './support/cli.ts'
import { writeFiles } from './support/files.ts'

async function validate(yaml: string): Promise<{ status: number | null; lines: string[] }> {
  const { dir, cleanup } = writeFiles({ 'app.yaml': yaml })
  try {
    const r = await isletAsync(['validate', 'app.yaml'], { cwd: dir })
    return { status: r.status, lines: r.stdout.split('\n').filter((l) => l.includes(' error ')) }
  } finally {
    cleanup()
  }
}

describe('islet validate on blocks', () => {
  it('reports unknown types, duplicate names, references and block variables inside blocks, and misplaced blocks', async () => {
    const { status, lines } = await validate(`apiVersion: islet/v1
pipelines:
  p:
    steps:
      - name: each
        type: foreach
        config: { items: '\${{ input }}' }
        do:
          - name: dup
            type: set
            config: { value: '\${{ item.x + idx }}' }
          - type: nosuch
      - name: dup
        type: set
        config: { value: '\${{ item }}' }
      - type: set
        config: { value: 1 }
        do: [ { type: log, config: { message: x } } ]
      - type: retry
      - type: parallel
        branches:
          a: [ { type: call, config: { pipeline: missing } } ]
`)
    expect(status).toBe(1)
    expect(lines).toEqual([
      expect.stringMatching(/^app\.yaml:11:44 error ERR_CONFIG_EXPRESSION unknown variable 'idx' at pipelines\.p\.steps\.0\.do\.0\.config\.value .*item, index\)$/),
      expect.stringMatching(/^app\.yaml:12:19 error ERR_CONFIG_UNKNOWN_STEP_TYPE unknown step type 'nosuch' at pipelines\.p\.steps\.0\.do\.1\.type/),
      expect.stringMatching(/^app\.yaml:13:15 error ERR_CONFIG_DUPLICATE_STEP step name 'dup' is used twice in pipeline 'p': at app\.yaml:9:19 and at app\.yaml:13:15/),
      // item belongs to the foreach's block: outside it, it is no variable.
      expect.stringMatching(/^app\.yaml:15:31 error ERR_CONFIG_EXPRESSION unknown variable 'item' at pipelines\.p\.steps\.1\.config\.value \('item' is visible only inside the block of a foreach step \(its do:\)\)$/),
      expect.stringMatching(/^app\.yaml:18:9 error ERR_CONFIG_STEP_BLOCK step type 'set' takes no block, so 'do:' means nothing here/),
      expect.stringMatching(/^app\.yaml:19:15 error ERR_CONFIG_STEP_BLOCK step type 'retry' runs a block, but this step has no 'do:'/),
      expect.stringMatching(/^app\.yaml:22:50 error ERR_CONFIG_UNKNOWN_REFERENCE no pipeline named 'missing' at pipelines\.p\.steps\.4\.branches\.a\.0\.config\.pipeline/),
    ])
  })

  it('refuses a transaction step on another database, or one that is not a sql step', async () => {
    const { status, lines } = await validate(`apiVersion: islet/v1
modules:
  - name: db
    type: storage.sqlite
    config: { file: a.db }
  - name: other
    type: storage.sqlite
    config: { file: b.db }
pipelines:
  p:
    steps:
      - type: sql.transaction
        config: { db: db }
        do:
          - type: sql.exec
            config: { db: other, sql: 'DELETE FROM t' }
          - if: \${{ input.log }}
            then:
              - type: log
                config: { message: hi }
`)
    expect(status).toBe(1)
    expect(lines).toEqual([
      expect.stringMatching(/^app\.yaml:16:27 error ERR_CONFIG_STEP_CHECK sql\.exec step 'sql\.exec#1' runs on database 'other', but the sql\.transaction around it is on 'db'/),
      expect.stringMatching(/^app\.yaml:19:23 error ERR_CONFIG_STEP_CHECK step type 'log' cannot run inside sql\.transaction/),
    ])
  })

  it('checks a called pipeline against the call trigger: it has no HTTP body', async () => {
    const { status, lines } = await validate(`apiVersion: islet/v1
modules:
  - name: web
    type: http.server
    config: { port: 0, routers: [api] }
  - name: api
    type: http.router
    config: { routes: [ { method: POST, path: /x, pipeline: outer } ] }
pipelines:
  outer:
    steps:
      - type: call
        config: { pipeline: inner }
  inner:
    steps:
      - type: set
        config: { value: '\${{ body.x }}' }
`)
    expect(status).toBe(1)
    expect(lines).toEqual([expect.stringMatching(
      /^app\.yaml:17:31 error ERR_CONFIG_TRIGGER_VARIABLE pipeline 'inner' reads 'body', but trigger 'call' runs it \(at app\.yaml:13:29\)/)])
  })
})
