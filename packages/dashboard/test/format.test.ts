import { describe, expect, it } from 'vitest'
import {
  formatDuration,
  formatSimTime,
  formatSpeed,
  formatSpeedKept,
  parseIsoDuration,
  parseSpan,
  readableDuration,
  reportWallTime,
  simNow,
  toIsoDuration,
} from '../src/lib/format.js'

describe('format', () => {
  it('should show simulation time in UTC', () => {
    expect(formatSimTime(Date.parse('2026-11-23T10:15:07.900Z'))).toBe('2026-11-23 10:15:07')
    expect(formatSimTime(Number.NaN)).toBe('—')
  })

  it('should show durations and speeds compactly', () => {
    expect(formatDuration(45_000)).toBe('45 s')
    expect(formatDuration(12 * 60_000)).toBe('12 min')
    expect(formatDuration(5 * 3_600_000 + 20 * 60_000)).toBe('5 h 20 min')
    expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000)).toBe('2 d 3 h')
    expect(formatDuration(-60_000)).toBe('−1 min')
    expect(formatSpeed(60)).toBe('60×')
    expect(formatSpeed(0.25)).toBe('0.25×')
    expect(formatSpeed(10000)).toBe('10\u202f000×')
  })

  it('should show the speed kept next to the requested one when it is below 90 %', () => {
    expect(formatSpeedKept(10000, 1894.3, true)).toEqual({
      text: 'requested 10\u202f000× — running 1\u202f890×',
      lagging: true,
    })
    expect(formatSpeedKept(10000, 9500, true)).toEqual({ text: '10\u202f000×', lagging: false })
    expect(formatSpeedKept(10, 0, false)).toEqual({ text: '10×', lagging: false })
    expect(formatSpeedKept(10, undefined, true)).toEqual({ text: '10×', lagging: false })
    expect(formatSpeedKept(10, 4.5, true).text).toBe('requested 10× — running 4.5×')
  })

  it('should parse spans and ISO 8601 durations', () => {
    expect(parseSpan('+2h')).toBe(7_200_000)
    expect(parseSpan('-1d 6h')).toBe(-30 * 3_600_000)
    expect(parseSpan('90m')).toBe(90 * 60_000)
    expect(parseSpan('2026-11-23')).toBeNull()
    expect(parseSpan('')).toBeNull()
    expect(parseIsoDuration('PT8H')).toBe(8 * 3_600_000)
    expect(parseIsoDuration('P2DT6H30M')).toBe((54 * 60 + 30) * 60_000)
    expect(parseIsoDuration('PT')).toBeNull()
    expect(parseIsoDuration('8h')).toBeNull()
    // The generator's reading: surrounding spaces ignored, a fraction only on seconds.
    expect(parseIsoDuration(' PT2H ')).toBe(7_200_000)
    expect(parseIsoDuration('PT1.5S')).toBe(1500)
    expect(parseIsoDuration('PT1.5H')).toBeNull()
    expect(parseIsoDuration('-PT1H')).toBeNull()
    expect(readableDuration('PT8H')).toBe('8 h')
    expect(formatDuration(86_400_000)).toBe('1 d')
    expect(readableDuration('6-12 hours')).toBe('6-12 hours')
  })

  it('should write spans as ISO 8601 durations for the control actions', () => {
    expect(toIsoDuration(parseSpan('2h')!)).toBe('PT2H')
    expect(toIsoDuration(parseSpan('90m')!)).toBe('PT1H30M')
    expect(toIsoDuration(parseSpan('1d 6h')!)).toBe('P1DT6H')
    expect(toIsoDuration(2 * 86_400_000)).toBe('P2D')
    expect(toIsoDuration(45_000)).toBe('PT45S')
    expect(toIsoDuration(0)).toBe('PT0S')
    for (const ms of [60_000, 7_200_000, 129_600_000, 3_723_000])
      expect(parseIsoDuration(toIsoDuration(ms))).toBe(ms)
  })
})

describe('simulation clock', () => {
  const sample = { sim: 1_000_000, wall: 5_000, speed: 60, running: true }

  it('should advance by the speed while running and hold while paused', () => {
    expect(simNow(sample, 6_000)).toBe(1_060_000)
    expect(simNow({ ...sample, running: false }, 6_000)).toBe(1_000_000)
    expect(Number.isNaN(simNow(null, 6_000))).toBe(true)
  })

  it('should not step back for report jitter but follow a real jump', () => {
    expect(simNow(sample, 5_000, 1_010_000)).toBe(1_010_000)
    expect(simNow(sample, 5_000, 1_000_000 + 3_600_000)).toBe(1_000_000)
  })

  it("should trust the server's updatedAt only when the clocks agree", () => {
    const at = Date.parse('2026-11-23T10:00:01Z')
    expect(reportWallTime('2026-11-23T10:00:00Z', at)).toBe(at - 1000)
    expect(reportWallTime('2026-11-23T09:00:00Z', at)).toBe(at)
    expect(reportWallTime(undefined, at)).toBe(at)
  })
})
