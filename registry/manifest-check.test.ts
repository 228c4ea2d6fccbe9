import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { checkManifest, PACKAGE_SCHEMA } from './manifest-check.ts'

const files = ['package.json', 'components/geocode.ts', 'dist/plugin.js', 'pipelines/geo.yaml']
const good = {
  name: '@acme/geo', version: '1.2.0',
  islet: {
    engine: '^0.1.0', host: './dist/plugin.js', services: ['events'],
    components: { geocode: { file: 'components/geocode.ts', capabilities: { fetch: ['https://geo.example'], kv: true } } },
    yaml: ['pipelines/geo.yaml'], plugins: { '@acme/base': '^1.0.0' },
  },
}

function paths(pkg: unknown, list = files): string[] {
  return checkManifest(pkg, list).map((p) => p.path)
}

describe('checkManifest', () => {
  it('checks against a schema that is valid JSON Schema (checkManifest compiles it without the meta-schema check)', () => {
    const ajv = new Ajv({ allErrors: true, strict: true })
    expect(ajv.validateSchema(PACKAGE_SCHEMA), ajv.errorsText()).toBe(true)
  })

  it('accepts a complete plugin package', () => {
    expect(checkManifest(good, files)).toEqual([])
  })

  it('requires the islet field and its engine range', () => {
    expect(paths({ name: 'a', version: '1.0.0' })).toEqual(['islet'])
    const [problem] = checkManifest({ ...good, islet: { components: {} } }, files)
    expect(problem).toMatchObject({ path: 'islet.engine', message: "islet lacks 'engine'" })
    expect(problem?.hint).toContain('^0.1.0')
    expect(paths({ ...good, islet: { ...good.islet, engine: 'not a range!' } })).toEqual(['islet.engine'])
  })

  it('applies npm name rules and semver versions', () => {
    expect(paths({ ...good, name: '@Acme/Geo' })).toEqual(['name'])
    expect(paths({ ...good, name: '.hidden' })).toEqual(['name'])
    expect(paths({ ...good, name: 'fs' })).toEqual(['name'])
    expect(paths({ ...good, version: 'v1.2' })).toEqual(['version'])
  })

  it('names files the tarball lacks, and paths that leave the package', () => {
    const problems = checkManifest(good, ['package.json'])
    expect(problems.map((p) => p.path)).toEqual(['islet.host', 'islet.components.geocode.file', 'islet.yaml[0]'])
    expect(problems[1]?.message).toBe("'components/geocode.ts' is not in the package")
    expect(paths({ ...good, islet: { ...good.islet, yaml: ['../outside.yaml'] } })).toEqual(['islet.yaml[0]'])
  })

  it('refuses unknown services and capabilities, listing the known ones', () => {
    const [service] = checkManifest({ ...good, islet: { ...good.islet, services: ['database'] } }, files)
    expect(service).toMatchObject({ path: 'islet.services.0' })
    expect(service?.hint).toContain('events')
    const [capability] = checkManifest({ ...good, islet: { ...good.islet, components: { geocode: { file: 'components/geocode.ts', capabilities: { shell: true } } } } }, files)
    expect(capability).toMatchObject({ path: 'islet.components.geocode.capabilities.shell' })
    expect(capability?.hint).toContain('kv, fetch, emit, secrets')
  })

  it('checks plugin dependency names and ranges', () => {
    expect(paths({ ...good, islet: { ...good.islet, plugins: { '@acme/base': 'one point oh' } } })).toEqual(['islet.plugins.@acme/base'])
  })

  it('refuses install scripts and native addons', () => {
    expect(paths({ ...good, scripts: { test: 'vitest', postinstall: 'node steal.js' } })).toEqual(['scripts.postinstall'])
    expect(paths(good, [...files, 'binding.gyp'])).toEqual(['binding.gyp'])
  })
})
