// The stand-in tarball reader refuses what extraction must refuse, before anything is written anywhere.
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { RegistryError } from '../errors.ts'
import { readTarball } from './tarball-read.ts'
import { tarGz } from './test-support/tar.ts'

function refusal(run: () => unknown): RegistryError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError)
    return error as RegistryError
  }
  throw new Error('expected a refusal')
}

describe('readTarball', () => {
  it("reads files under npm's package/ folder, by package-relative path", () => {
    const { files } = readTarball(tarGz({ 'package.json': '{}', 'components/a.ts': 'x' }))
    expect([...files.keys()]).toEqual(['package.json', 'components/a.ts'])
    expect(files.get('components/a.ts')!.toString()).toBe('x')
  })

  it('refuses absolute paths, .., links, devices, too many entries and too many bytes', () => {
    const cases: [Buffer, string, { maxEntries?: number; maxBytes?: number }?][] = [
      [tarGz([{ path: '/etc/passwd', body: 'x' }]), 'is an absolute path'],
      [tarGz([{ path: 'package/../../outside', body: 'x' }]), 'climbs out with ..'],
      [tarGz([{ path: 'package/hard', type: '1', linkTo: 'package/x' }]), 'is a link'],
      [tarGz([{ path: 'package/tty', type: '3' }]), 'is a device'],
      [tarGz({ a: '1', b: '2', c: '3' }), 'more than 2 entries', { maxEntries: 2 }],
      [tarGz({ a: 'x'.repeat(100) }), 'more than 50 bytes', { maxBytes: 50 }],
    ]
    for (const [bytes, said, limits] of cases) {
      const error = refusal(() => readTarball(bytes, limits))
      expect([error.code, error.message]).toEqual(['ERR_REGISTRY_TARBALL_UNSAFE', expect.stringContaining(said)])
    }
  })

  it('refuses bytes that are not a gzipped tar archive', () => {
    expect(refusal(() => readTarball(Buffer.from('plain'))).code).toBe('ERR_REGISTRY_TARBALL_CORRUPT')
    expect(refusal(() => readTarball(gzipSync(Buffer.alloc(512, 65)))).code).toBe('ERR_REGISTRY_TARBALL_CORRUPT')
  })
})
