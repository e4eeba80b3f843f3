/**
 * The 30-day baseline series: its interval grid (60 points per stream at 12 h,
 * 720 at 1 h, 2880 at 15 min), a start off the grid, the small anomalies, and the
 * world's patterns as they show in the history (booking confirmations per
 * request, ratings per completed session, weekend sessions, growth).
 *
 * Fixed seed 42 and start Monday 2 March 2026 00:00 UTC: the 30 days (31 January –
 * 1 March, and the model's lead-in before them) lie between the world's winter
 * holidays (to 3 January) and spring break (from 6 April), so no academic-calendar
 * boundary distorts weekly or trend figures.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  HistoryBook,
  HistoryModel,
  baselineStatistics,
  rollUp,
  type HistoryEvent,
  type HistorySeries,
} from '@verisim/sim'
import { ArrivalKind } from '@verisim/sim'
import { tutoring } from '../helpers.js'

const START = Date.UTC(2026, 2, 2)
const SEED = 42
const HALF = 12 * HOUR

let book: HistoryBook
let series: HistorySeries

beforeAll(() => {
  book = new HistoryBook({ world: tutoring(), seed: SEED, start: START })
  series = book.series
}, 30_000)

const idx = (name: string): number => {
  const s = series.streams.indexOf(name)
  if (s < 0) throw new Error(`no stream ${name}`)
  return s
}
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)
/** Daily totals of a count stream (12 h values in pairs: the series starts at 00:00 UTC). */
const daily = (s: HistorySeries, name: string): number[] => {
  const { v } = rollUp(s, s.streams.indexOf(name), '12h')
  const out: number[] = []
  for (let i = 0; i + 1 < v.length; i += 2) out.push(v[i]! + v[i + 1]!)
  return out
}
/** Least-squares slope of daily values relative to their mean, per 30 days. */
const dailyTrend = (xs: readonly number[]): number => {
  const n = xs.length
  const mx = (n - 1) / 2
  const my = sum(xs) / n
  let sxy = 0
  let sxx = 0
  xs.forEach((y, x) => {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
  })
  return ((sxy / sxx) * 30) / my
}
const matches = (pattern: string, name: string): boolean =>
  pattern === '*' ||
  pattern === name ||
  (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)))

describe('history intervals', () => {
  it('rollUp at 12 h should give 60 points per stream on the 00:00/12:00 UTC grid from series.from', () => {
    expect(series.from).toBe(START - 30 * DAY)
    expect(series.n).toBe(2880)
    expect(series.streams.length).toBe(tutoring().streams.length)
    for (let s = 0; s < series.streams.length; s++) {
      const { t, v } = rollUp(series, s, '12h')
      expect(t.length, series.streams[s]).toBe(60)
      expect(v.length).toBe(60)
      expect(t[0]).toBe(series.from)
      expect(t[59]).toBe(START - HALF)
      for (let i = 0; i < t.length; i++) {
        expect(t[i]! % HALF).toBe(0)
        if (i > 0) expect(t[i]! - t[i - 1]!).toBe(HALF)
      }
    }
  })

  it('rollUp at 1 h and 15 min should give 720 and 2880 points per stream', () => {
    for (let s = 0; s < series.streams.length; s++) {
      expect(rollUp(series, s, '1h').t.length).toBe(720)
      expect(rollUp(series, s, '15m').t.length).toBe(2880)
    }
  })

  it('rollUp should sum the 15 min buckets (counts) and weight means by count', () => {
    const c = idx('session.booking.requested')
    const { v } = rollUp(series, c, '12h')
    for (let i = 0; i < 60; i++) {
      let x = 0
      for (let j = i * 48; j < (i + 1) * 48; j++) x += series.count[c]![j]!
      expect(v[i]).toBe(x)
    }
    const m = idx('system.heartbeat')
    expect(series.measures[m]).toBe('mean')
    const h = rollUp(series, m, '1h')
    for (let i = 0; i < 24; i++) {
      let n = 0
      let w = 0
      for (let j = i * 4; j < (i + 1) * 4; j++) {
        const k = series.count[m]![j]!
        n += k
        if (k > 0) w += k * series.mean[m]![j]!
      }
      expect(h.v[i]).toBeCloseTo(w / n, 2)
    }
  })

  it('a start off the grid should end the series with a partial bucket that rollUp leaves out', () => {
    // 2 March 2026 18:07 UTC: 6 h 07 min past the last 12 h boundary, 7 min into a bucket
    const start = Date.UTC(2026, 2, 2, 18, 7)
    const model = new HistoryModel({ world: tutoring(), seed: SEED, start })
    const { series: s } = model.generate([], { anomalies: false })
    expect(s.from).toBe(Date.UTC(2026, 0, 31, 12))
    expect(s.n).toBe(2880 + 24 + 1)
    const api = s.streams.indexOf('system.api.request.log')
    const h12 = rollUp(s, api, '12h')
    expect(h12.t.length).toBe(60)
    expect(h12.t[59]).toBe(Date.UTC(2026, 2, 2))
    expect(rollUp(s, api, '1h').t.length).toBe(726)
    expect(rollUp(s, api, '15m').t.length).toBe(2904)
    // the partial bucket holds 7 of 15 minutes of events
    const c = s.count[api]!
    const full = (c[s.n - 2]! + c[s.n - 3]! + c[s.n - 4]!) / 3
    expect(c[s.n - 1]! / full).toBeGreaterThan(0.35)
    expect(c[s.n - 1]! / full).toBeLessThan(0.6)
  })
})

describe('history anomalies', () => {
  it('should mark 5–10 % of (stream, 12 h interval) pairs, each changing by 15–35 %', () => {
    const { anomalies } = book.baseline
    const pairs = new Set<string>()
    for (const a of anomalies) {
      const k = Math.floor((a.start - series.from) / HALF)
      // inside one 12 h interval of the series, 1–6 h long
      expect(a.start).toBeGreaterThanOrEqual(series.from)
      expect(Math.floor((a.end - 1 - series.from) / HALF)).toBe(k)
      expect(a.end - a.start).toBeGreaterThanOrEqual(HOUR)
      expect(a.end - a.start).toBeLessThanOrEqual(6 * HOUR)
      expect(Math.abs(a.change - 1)).toBeGreaterThanOrEqual(0.15 - 1e-9)
      expect(Math.abs(a.change - 1)).toBeLessThanOrEqual(0.35 + 1e-9)
      pairs.add(`${a.stream}@${k}`)
    }
    const share = pairs.size / (series.streams.length * 60)
    expect(share).toBeGreaterThanOrEqual(0.05)
    expect(share).toBeLessThanOrEqual(0.1)
  })

  it('should show in the series: a root stream counts `change` times its anomaly-free self there', () => {
    const world = tutoring()
    const outcomes = new Set(
      world.streams.flatMap((s) => s.chains.flatMap((c) => c.outcomes.map((o) => o.stream))),
    )
    const roots = new Set(
      world.streams
        .filter((s) => s.arrivalKind === ArrivalKind.poisson && !outcomes.has(s.index))
        .map((s) => s.name),
    )
    const withA = book.model.generate([]).series
    const without = book.model.generate([], { anomalies: false }).series
    let checked = 0
    for (const a of book.baseline.anomalies) {
      if (!roots.has(a.stream)) continue
      const s = withA.streams.indexOf(a.stream)
      const i0 = (a.start - withA.from) / withA.bucketMs
      const i1 = (a.end - withA.from) / withA.bucketMs
      let x = 0
      let y = 0
      for (let i = i0; i < i1; i++) {
        x += withA.count[s]![i]!
        y += without.count[s]![i]!
      }
      if (y < 1000) continue
      expect(x / y, `${a.stream} at ${new Date(a.start).toISOString()}`).toBeCloseTo(a.change, 1)
      checked++
    }
    expect(checked).toBeGreaterThan(0)
  })
})

describe('history coherence (seed 42, 12 h)', () => {
  it('booking confirmations should be 70–80 % of requests over the 30 days and on each undisturbed day', () => {
    const req = daily(series, 'session.booking.requested')
    const conf = daily(series, 'session.booking.confirmed')
    const total = sum(conf) / sum(req)
    expect(total).toBeGreaterThanOrEqual(0.7)
    expect(total).toBeLessThanOrEqual(0.8)
    // Per 12 h interval the ratio cannot hold: confirmations trail their request
    // by 2–24 h (median ~5 h) against a 3:1 day/night request cycle, so night
    // intervals run ~1.05 and day intervals ~0.63 (the event engine does the same).
    // Per UTC day it holds, except around days where a causal event changes the
    // request rate or an anomaly hits requests or confirmations (confirmations then
    // land on the following day): those days, and the day after, are left out.
    const booking = ['session.booking.requested', 'session.booking.confirmed']
    const disturbed = (t: number): boolean =>
      book.events.some(
        (e: HistoryEvent) =>
          !e.redHerring &&
          e.modifiers.some((m) => booking.some((b) => matches(m.stream, b))) &&
          e.window.start < t + DAY &&
          e.window.end > t - DAY,
      ) ||
      book.baseline.anomalies.some(
        (a) => booking.includes(a.stream) && a.start < t + DAY && a.end > t - DAY,
      )
    const rows = req.map((r, d) => ({
      day: new Date(series.from + d * DAY).toISOString().slice(0, 10),
      ratio: conf[d]! / r,
      disturbed: disturbed(series.from + d * DAY),
    }))
    const quiet = rows.filter((r) => !r.disturbed)
    const msg = rows
      .map((r) => `${r.day} ${r.ratio.toFixed(3)}${r.disturbed ? ' (disturbed)' : ''}`)
      .join('\n')
    // seed 42: 9 undisturbed days, 0.716–0.783; disturbed days run 0.650–0.934
    expect(quiet.length, msg).toBeGreaterThanOrEqual(8)
    for (const r of quiet) {
      expect(r.ratio, msg).toBeGreaterThanOrEqual(0.7)
      expect(r.ratio, msg).toBeLessThanOrEqual(0.8)
    }
  })

  it('ratings should be 40–60 % of completed sessions over the 30 days', () => {
    const share =
      sum(daily(series, 'session.rating.submitted')) / sum(daily(series, 'session.completed'))
    expect(share).toBeGreaterThanOrEqual(0.4)
    expect(share).toBeLessThanOrEqual(0.6)
  })

  it('weekend days should have 30–50 % more completed sessions than weekdays', () => {
    const done = daily(series, 'session.completed')
    const we: number[] = []
    const wd: number[] = []
    done.forEach((x, d) => {
      const dow = new Date(series.from + d * DAY).getUTCDay()
      ;(dow === 0 || dow === 6 ? we : wd).push(x)
    })
    expect(we.length).toBe(10)
    const lift = sum(we) / we.length / (sum(wd) / wd.length) - 1
    expect(lift).toBeGreaterThanOrEqual(0.3)
    expect(lift).toBeLessThanOrEqual(0.5)
    // the statistics report the same lift at 12 h
    expect(book.statistics('12h').streams['session.completed']!.patterns.weekendLift).toBeCloseTo(
      lift,
      2,
    )
  })

  /** Demand-profile streams with at least 1000 events a day (the smaller ones are too noisy for a 30-day slope). */
  const demand = (): string[] => {
    const world = tutoring()
    return world.streams
      .filter(
        (s) =>
          s.arrivalKind === ArrivalKind.poisson &&
          world.profiles[s.profile]!.name === 'demand' &&
          sum(daily(series, s.name)) / 30 >= 1000,
      )
      .map((s) => s.name)
  }

  it('demand streams should grow: positive trend without the baseline events (growth 3.5 %/month)', () => {
    const names = demand()
    expect(names.length).toBeGreaterThanOrEqual(5)
    // the series with its anomalies but none of the baseline's external events
    const g = book.model.generate([]).series
    const stats = baselineStatistics(g, '12h')
    for (const name of names) {
      expect(stats.streams[name]!.patterns.trendPerMonth, name).toBeGreaterThan(0)
      // on daily totals (no day/night aliasing): close to the configured monthly growth
      const tr = dailyTrend(daily(g, name))
      expect(tr, name).toBeGreaterThan(0.005)
      expect(tr, name).toBeLessThan(0.08)
    }
  })

  // With the baseline's own events: the plan spreads templates (none repeats within
  // 10 days while others are left), so a few demand-lowering events do not turn
  // the month's growth around.
  it('demand streams should keep a positive trend with the baseline events', () => {
    const stats = book.statistics('12h')
    for (const name of demand())
      expect(stats.streams[name]!.patterns.trendPerMonth, name).toBeGreaterThan(0)
  })
})
