import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { RegistryError } from '../errors.ts'
import { readTarball } from './read.ts'
import { packageTgz, tar, tgz, type TestEntry } from './test-tar.ts'

function refusal(gz: Uint8Array, limits?: Parameters<typeof readTarball>[1]): RegistryError {
  try {
    readTarball(gz, limits)
  } catch (error) {
    if (error instanceof RegistryError) return error
    throw error
  }
  throw new Error('the tarball was accepted')
}

describe('readTarball', () => {
  it('reads files without the package/ prefix, skipping folders', () => {
    const gz = tgz([
      { name: 'package/', type: '5' },
      { name: 'package/package.json', body: '{"name":"a"}' },
      { name: 'package/components/geo.ts', body: 'export default 1' },
    ])
    const { files } = readTarball(gz)
    expect([...files.keys()]).toEqual(['package.json', 'components/geo.ts'])
    expect(files.get('package.json')?.toString()).toBe('{"name":"a"}')
  })

  it('takes a long path from a pax header', () => {
    const long = `package/${'deep/'.repeat(30)}file.txt`
    const { files } = readTarball(tgz([{ name: 'package/short', pax: { path: long }, body: 'x' }]))
    expect([...files.keys()]).toEqual([long.slice('package/'.length)])
  })

  it.each([
    ['an absolute path', { name: '/etc/passwd', body: 'x' }, 'absolute'],
    ['a .. segment', { name: 'package/../../evil.js', body: 'x' }, "climbs out with '..'"],
    ['a .. hidden in a pax path', { name: 'package/ok.js', pax: { path: 'package/a/../../x' }, body: 'x' }, "'..'"],
    ['a symbolic link', { name: 'package/link', type: '2', linkname: '/etc/passwd' }, 'symbolic link'],
    ['a hard link', { name: 'package/hard', type: '1', linkname: 'package/package.json' }, 'hard link'],
    ['a character device', { name: 'package/tty', type: '3' }, 'character device'],
    ['a fifo', { name: 'package/pipe', type: '6' }, 'fifo'],
    ['an entry outside package/', { name: 'other/file.js', body: 'x' }, 'outside'],
  ] as [string, TestEntry, string][])('refuses %s, naming the entry', (_what, entry, why) => {
    const error = refusal(tgz([{ name: 'package/package.json', body: '{}' }, entry]))
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain(`'${entry.pax?.path ?? entry.name}'`)
    expect(error.message).toContain(why)
  })

  it('refuses a path that appears twice', () => {
    const error = refusal(packageTgzTwice())
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain('appears twice')
  })

  it('refuses a file that is also a folder of another file, in either order', () => {
    for (const entries of [
      [{ name: 'package/lib', body: 'x' }, { name: 'package/lib/index.js', body: 'y' }],
      [{ name: 'package/lib/index.js', body: 'y' }, { name: 'package/lib', body: 'x' }],
    ]) {
      const error = refusal(tgz(entries))
      expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
      expect(error.message).toContain("'lib' is both a file and a folder")
    }
  })

  // What would extract differently on macOS or Windows is refused when read, so at publish: it never reaches an install.
  it.each([
    ['two files', ['package/README.md', 'package/readme.md'], "'README.md' and 'readme.md' differ only in case"],
    ['two folders', ['package/Lib/a.js', 'package/lib/b.js'], "the folders 'Lib' and 'lib' differ only in case"],
    ['a file and a folder', ['package/lib', 'package/LIB/a.js'], "'lib' is both a file and a folder ('LIB')"],
    ['two Unicode normalizations', ['package/caf\u00e9.js', 'package/cafe\u0301.js'], 'differ only in case'],
  ])('refuses %s whose names are equal up to case or normalization', (_what, names, why) => {
    const error = refusal(tgz(names.map((name) => ({ name, body: 'x' }))))
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain(why)
  })

  it.each([
    ['a newline', 'package/a\nb.js', 'control character'],
    ['a NUL byte (through pax)', 'package/a\u0000b.js', 'control character'],
    ['a backslash', 'package/lib\\index.js', 'backslash'],
  ])('refuses a path holding %s', (_what, path, why) => {
    const error = refusal(tgz([{ name: 'package/ok.js', pax: { path }, body: 'x' }]))
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain(why)
  })

  it('reads pax records by their length, so a newline in a path cannot forge a second record', () => {
    // `<length> path=<value>\n`, the length counting the whole record; the value is `package/a\n20 path=package/b`.
    const value = 'package/a\n20 path=package/b'
    const record = `${' path='.length + value.length + 1 + 2} path=${value}\n`
    const error = refusal(tgz([{ name: 'PaxHeader', type: 'x', body: record }, { name: 'package/x', body: 'x' }]))
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain('control character')
  })

  it('keeps the last of two pax records for the same key, as npm does', () => {
    const first = '25 path=package/first.js\n'
    const last = '24 path=package/last.js\n'
    const { files } = readTarball(tgz([{ name: 'PaxHeader', type: 'x', body: first + last }, { name: 'package/x', body: 'x' }]))
    expect([...files.keys()]).toEqual(['last.js'])
  })

  it('calls a pax record whose length does not end on its newline corrupt', () => {
    const error = refusal(tgz([{ name: 'PaxHeader', type: 'x', body: '26 path=package/first.js\n' }, { name: 'package/x', body: 'x' }]))
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_CORRUPT')
  })

  it('never takes a global pax path as an entry name', () => {
    const { files } = readTarball(tgz([
      { name: 'pax_global_header', type: 'g', body: '28 path=package/global.json\n' },
      { name: 'package/a.js', body: '1' },
      { name: 'package/b.js', body: '2' },
    ]))
    expect([...files.keys()]).toEqual(['a.js', 'b.js'])
  })

  it('reads an old-style folder entry (a file entry whose name ends with a slash) as a folder', () => {
    const { files } = readTarball(tgz([{ name: 'package/lib/' }, { name: 'package/lib/index.js', body: 'y' }]))
    expect([...files.keys()]).toEqual(['lib/index.js'])
  })

  it('refuses more entries than the limit', () => {
    const files = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}.txt`, 'x']))
    expect(readTarball(packageTgz(files), { maxEntries: 11 }).files.size).toBe(11)
    const error = refusal(packageTgz(files), { maxEntries: 10 })
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain('more than 10 entries')
    expect(error.message).toContain("'package/f10.txt'")
  })

  it('refuses more unpacked bytes than the limit', () => {
    const gz = packageTgz({ 'a.bin': Buffer.alloc(600), 'b.bin': Buffer.alloc(600) })
    expect(readTarball(gz, { maxBytes: 1200 }).files.size).toBe(2)
    const error = refusal(gz, { maxBytes: 1000 })
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain("'package/b.bin'")
  })

  it('stops a gzip bomb while inflating', () => {
    // 64 MiB of zeros gzips to ~64 KiB; with a 1 MiB limit the inflater must stop long before the end.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })
    const error = refusal(bomb, { maxBytes: 1024 * 1024, maxEntries: 10 })
    expect(error.code).toBe('ERR_REGISTRY_TARBALL_UNSAFE')
    expect(error.message).toContain('inflates to more than')
  })

  it('calls what is not gzip or not tar corrupt', () => {
    expect(refusal(Buffer.from('not gzip')).code).toBe('ERR_REGISTRY_TARBALL_CORRUPT')
    expect(refusal(gzipSync(Buffer.from('x'.repeat(600)))).code).toBe('ERR_REGISTRY_TARBALL_CORRUPT')
    expect(refusal(gzipSync(Buffer.alloc(512, 65))).code).toBe('ERR_REGISTRY_TARBALL_CORRUPT')
    const truncated = tar([{ name: 'package/a', body: 'x'.repeat(2000) }]).subarray(0, 1024)
    expect(refusal(gzipSync(truncated)).code).toBe('ERR_REGISTRY_TARBALL_CORRUPT')
  })
})

function packageTgzTwice(): Buffer {
  return tgz([{ name: 'package/a.js', body: '1' }, { name: 'package/a.js', body: '2' }])
}
