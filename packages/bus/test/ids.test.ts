import { describe, expect, it } from 'vitest'
import { compareIds, createIdSequence, formatId, isEventId, maxId, parseId } from '../src/index.js'

describe('event ids', () => {
  it('should issue strictly increasing ids within and across milliseconds', () => {
    const ids = createIdSequence()
    const out = [ids.next(1000), ids.next(1000), ids.next(1001), ids.next(1001), ids.next(1005)]
    expect(out).toEqual(['1000-0', '1000-1', '1001-0', '1001-1', '1005-0'])
    for (let i = 1; i < out.length; i++) expect(compareIds(out[i]!, out[i - 1]!)).toBeGreaterThan(0)
  })

  it('should never go back when the wall clock does', () => {
    const ids = createIdSequence()
    ids.next(2000)
    expect(ids.next(1500)).toBe('2000-1')
    expect(ids.next(1999.9)).toBe('2000-2')
  })

  it('should continue after a given id (a restarted generator)', () => {
    const ids = createIdSequence('5000-7')
    expect(ids.last()).toBe('5000-7')
    expect(ids.next(4000)).toBe('5000-8')
    expect(ids.next(6000)).toBe('6000-0')
  })

  it('should order numerically, not as strings', () => {
    expect(compareIds('999-0', '1000-0')).toBeLessThan(0)
    expect(compareIds('1000-10', '1000-9')).toBeGreaterThan(0)
    expect(compareIds('1000-3', '1000-3')).toBe(0)
    expect(maxId('1000-10', '1000-9')).toBe('1000-10')
    expect(maxId(null, '1-1')).toBe('1-1')
  })

  it('should parse and validate the <ms>-<seq> form', () => {
    expect(parseId('1732350000000-17')).toEqual({ ms: 1732350000000, seq: 17 })
    expect(formatId({ ms: 1, seq: 2 })).toBe('1-2')
    expect(isEventId('1-2')).toBe(true)
    for (const bad of ['', '1', '1-', '-1', 'a-1', '1-2-3', '1.5-2']) {
      expect(isEventId(bad), bad).toBe(false)
      expect(() => parseId(bad)).toThrow(/expected "<ms>-<seq>"/)
    }
  })
})
