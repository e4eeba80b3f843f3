import { describe, expect, it } from 'vitest'
import { formatIsoDuration, parseIsoDuration } from '../src/index.js'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

describe('parseIsoDuration', () => {
  it('should read weeks, days, hours, minutes and seconds', () => {
    expect(parseIsoDuration('PT8H')).toBe(8 * HOUR)
    expect(parseIsoDuration('P1DT12H')).toBe(36 * HOUR)
    expect(parseIsoDuration('PT90M')).toBe(90 * MINUTE)
    expect(parseIsoDuration('P2W')).toBe(14 * DAY)
    expect(parseIsoDuration('P1W2DT3H4M5S')).toBe(9 * DAY + 3 * HOUR + 4 * MINUTE + 5 * SECOND)
    expect(parseIsoDuration('PT0S')).toBe(0)
  })

  it('should take a fraction of a second only, rounded to the millisecond', () => {
    expect(parseIsoDuration('PT1.5S')).toBe(1500)
    expect(parseIsoDuration('PT0.0004S')).toBe(0)
    expect(parseIsoDuration('PT1.5H')).toBeUndefined()
  })

  it('should accept a leading "-" only when signed', () => {
    expect(parseIsoDuration('-PT3H')).toBeUndefined()
    expect(parseIsoDuration('-PT3H', { signed: true })).toBe(-3 * HOUR)
    expect(parseIsoDuration('PT3H', { signed: true })).toBe(3 * HOUR)
  })

  it('should refuse what is not a fixed-length duration', () => {
    for (const s of [
      'P1M',
      'P1Y',
      'PT',
      'P',
      'P1DT',
      '',
      '8h',
      ' PT8H',
      'PT8H ',
      'pt8h',
      '+PT3H',
    ]) {
      expect(parseIsoDuration(s), s).toBeUndefined()
    }
  })
})

describe('formatIsoDuration', () => {
  it('should write the largest units first, days at most', () => {
    expect(formatIsoDuration(20 * HOUR)).toBe('PT20H')
    expect(formatIsoDuration(4 * DAY)).toBe('P4D')
    expect(formatIsoDuration(DAY + 30 * MINUTE)).toBe('P1DT30M')
    expect(formatIsoDuration(14 * DAY)).toBe('P14D')
    expect(formatIsoDuration(90 * SECOND + 500)).toBe('PT1M30.5S')
    expect(formatIsoDuration(0)).toBe('PT0S')
  })

  it('should sign a negative duration', () => {
    expect(formatIsoDuration(-3 * HOUR)).toBe('-PT3H')
    expect(formatIsoDuration(-0.2)).toBe('PT0S')
  })

  it('should read back what it writes', () => {
    for (const ms of [0, SECOND, 59 * MINUTE, 36 * HOUR, 9 * DAY + 1500, -2 * DAY]) {
      expect(parseIsoDuration(formatIsoDuration(ms), { signed: true })).toBe(ms)
    }
  })
})
