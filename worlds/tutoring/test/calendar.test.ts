import { describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  RateModel,
  calendarMultiplier,
  civilFromDays,
  compilePeriods,
  compileProfile,
  dayOfWeek,
  hourOfDay,
  inPeriod,
  monthDay,
  parseMonthDay,
} from '@verisim/sim'
import { START, tutoring } from './helpers.js'

describe('calendar', () => {
  it('calendar should agree with Date on UTC fields over 400 years of days', () => {
    for (let d = -50_000; d < 100_000; d += 37) {
      const ms = d * DAY + 13 * HOUR
      const date = new Date(ms)
      const c = civilFromDays(d)
      expect([c.year, c.month, c.day]).toEqual([
        date.getUTCFullYear(),
        date.getUTCMonth() + 1,
        date.getUTCDate(),
      ])
      expect(dayOfWeek(ms)).toBe(date.getUTCDay())
      expect(hourOfDay(ms)).toBe(13)
      expect(monthDay(ms)).toBe((date.getUTCMonth() + 1) * 100 + date.getUTCDate())
    }
  })

  it('calendar periods should wrap the year end', () => {
    expect(parseMonthDay('12-21')).toBe(1221)
    expect(inPeriod(1225, 1221, 103)).toBe(true)
    expect(inPeriod(102, 1221, 103)).toBe(true)
    expect(inPeriod(1220, 1221, 103)).toBe(false)
    expect(inPeriod(515, 501, 531)).toBe(true)
    expect(inPeriod(601, 501, 531)).toBe(false)
  })
})

describe('rates', () => {
  const world = tutoring()
  const periods = compilePeriods(world.config.baseline.seasonality.calendar)

  it('rates should apply exam (+50 %), summer (−25 %) and holiday (−50 %) periods', () => {
    const at = (y: number, m: number, d: number) =>
      calendarMultiplier(periods, Date.UTC(y, m - 1, d, 12))
    expect(at(2025, 3, 10)).toBe(1)
    expect(at(2025, 5, 15)).toBe(1.5)
    expect(at(2025, 7, 15)).toBe(0.75)
    expect(at(2025, 11, 10)).toBe(1.5)
    expect(at(2025, 12, 25)).toBe(0.5)
    expect(at(2026, 1, 2)).toBe(0.5)
    expect(at(2025, 11, 26)).toBe(0.75) // Thanksgiving week inside the fall exam season
    for (const p of world.config.baseline.seasonality.calendar) {
      if (p.kind === 'exam') expect(p.multiplier >= 1.4 && p.multiplier <= 1.6).toBe(true)
      if (p.kind === 'summer') expect(p.multiplier >= 0.7 && p.multiplier <= 0.8).toBe(true)
      if (p.kind === 'holiday') expect(p.multiplier).toBe(0.5)
    }
  })

  it('rates profiles should average 1 over a week so perDay is the mean daily volume', () => {
    for (const [name, p] of Object.entries(world.config.baseline.seasonality.profiles)) {
      const cp = compileProfile(name, p)
      const rm = new RateModel([{ ...cp, calendar: false, growth: false }], [], 0, START)
      let sum = 0
      const h0 = START / HOUR
      for (let h = 0; h < 168; h++) sum += rm.factor(0, h0 + h)
      expect(sum / 168).toBeCloseTo(1, 9)
    }
  })

  it('rates should peak 8 am–10 pm and stay minimal 11 pm–7 am for demand', () => {
    const cp = compileProfile('demand', world.config.baseline.seasonality.profiles.demand!)
    const peak = [...cp.hourly.slice(8, 22)]
    const off = [cp.hourly[23]!, ...cp.hourly.slice(0, 7)]
    expect(Math.min(...peak)).toBeGreaterThan(Math.max(...off))
    const ratio =
      peak.reduce((a, b) => a + b) / peak.length / (off.reduce((a, b) => a + b) / off.length)
    expect(ratio).toBeGreaterThan(4)
  })

  it('rates should weigh weekend session slots above weekdays', () => {
    // The realized uplift (+30–50 % sessions per weekend day) is measured in
    // engine.statistics.test.ts: requests spread over their lead times dilute the
    // slot weight, so the weight itself is set higher.
    const cp = compileProfile('sessions', world.config.baseline.seasonality.profiles.sessions!)
    const weekend = (cp.weekly[0]! + cp.weekly[6]!) / 2
    const weekday =
      (cp.weekly[1]! + cp.weekly[2]! + cp.weekly[3]! + cp.weekly[4]! + cp.weekly[5]!) / 5
    expect(weekend / weekday - 1).toBeGreaterThanOrEqual(0.3)
  })

  it('rates should compound growth monthly from the origin and cache per hour', () => {
    const cp = compileProfile('flat', world.config.baseline.seasonality.profiles.flat!)
    const rm = new RateModel([{ ...cp, growth: true }], periods, 0.035, START)
    expect(rm.growth(START)).toBe(1)
    expect(rm.growth(START + 30 * DAY)).toBeCloseTo(1.035, 12)
    const h = START / HOUR + 24 * 30
    expect(rm.factor(0, h)).toBe(rm.compute(0, h))
    expect(rm.factor(0, h)).toBe(rm.factor(0, h))
    expect(rm.factor(0, h + 8192)).toBe(rm.compute(0, h + 8192)) // cache slot reuse stays exact
  })
})
