import { describe, expect, it } from 'vitest'
import { compareIds, isEventId } from '../src/index.js'

describe('ids', () => {
  it('should order ids by ms, then seq, numerically', () => {
    const sorted = [
      '9-0',
      '9-2',
      '9-10',
      '10-0',
      '10-1',
      '100-0',
      '1732350000000-0',
      '1732350000000-11',
      '1732350000001-0',
    ]
    const shuffled = [4, 0, 8, 2, 6, 1, 7, 3, 5].map((i) => sorted[i] as string)
    expect(shuffled.sort(compareIds)).toEqual(sorted)
    expect(compareIds('5-5', '5-5')).toBe(0)
    expect(
      compareIds('999999999999999-999999999999999', '999999999999999-999999999999998'),
    ).toBeGreaterThan(0)
  })

  it('should accept only <ms>-<seq>', () => {
    expect(isEventId('1732350000000-17')).toBe(true)
    for (const bad of [
      '',
      '1',
      '1-',
      '-1',
      'a-1',
      '1-1-1',
      '1234567890123456-0',
      ' 1-1',
      1,
      null,
      undefined,
    ]) {
      expect(isEventId(bad), String(bad)).toBe(false)
    }
  })
})
