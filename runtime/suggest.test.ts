// "Did you mean": likely typos are caught, unrelated words are not suggested.
import { describe, expect, it } from 'vitest'
import { editDistance, suggest } from './suggest.ts'

describe('editDistance', () => {
  it.each([
    ['port', 'port', 0], ['prot', 'port', 1], ['por', 'port', 1], ['porrt', 'port', 1], ['pirt', 'port', 1],
    ['', 'abc', 3], ['kitten', 'sitting', 3],
  ])('%s ↔ %s = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d)
    expect(editDistance(b, a)).toBe(d)
  })
})

describe('suggest', () => {
  const keys = ['port', 'host', 'routers', 'middleware', 'bodyLimit']

  it('finds transpositions, omissions and case slips', () => {
    expect(suggest('prot', keys)).toBe('port')
    expect(suggest('routrs', keys)).toBe('routers')
    expect(suggest('bodylimit', keys)).toBe('bodyLimit')
    expect(suggest('midleware', keys)).toBe('middleware')
  })

  it('prefers the closest candidate', () => {
    expect(suggest('hots', ['host', 'hosts'])).toBe('host')
  })

  it('suggests nothing for unrelated or too-short words', () => {
    expect(suggest('database', keys)).toBeUndefined()
    expect(suggest('xy', ['ab', 'cd'])).toBeUndefined()
    expect(suggest('port', [])).toBeUndefined()
  })

  it('does not suggest the input itself', () => {
    expect(suggest('port', ['port'])).toBeUndefined()
  })
})
