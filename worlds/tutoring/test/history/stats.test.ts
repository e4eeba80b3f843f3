/**
 * Baseline statistics against a direct computation: for a few streams (busy and
 * sparse count streams, mean streams) and all three intervals, mean, median,
 * standard deviation, min, max, percentiles, weekday/weekend averages and the
 * trend are recomputed here from the rolled-up values, independently of
 * stats.ts (own sort, own percentile rule, own regression).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  HISTORY_INTERVALS,
  HistoryBook,
  MONTH,
  rollUp,
  type HistoryInterval,
  type StreamStatistics,
} from '@verisim/sim'
import { tutoring } from '../helpers.js'

const START = Date.UTC(2026, 2, 2)
const SEED = 42
const STREAMS = [
  'session.booking.requested', // busy count stream
  'customer.signup', // ~60 a day
  'tutor.deactivated', // sparse: many zero intervals
  'system.heartbeat', // mean stream
  'marketing.ad.spend', // mean stream
]

let book: HistoryBook
beforeAll(() => {
  book = new HistoryBook({ world: tutoring(), seed: SEED, start: START })
}, 30_000)

interface Direct {
  samples: number
  mean: number
  median: number
  stdDev: number
  min: number
  max: number
  p: Record<'p25' | 'p50' | 'p75' | 'p90' | 'p95', number>
  weekdayAvg: number
  weekendAvg: number
  trendPerMonth: number
}

/** The statistics of one stream, computed the long way. */
function direct(name: string, interval: HistoryInterval): Direct {
  const series = book.series
  const { t, v } = rollUp(series, series.streams.indexOf(name), interval)
  const pts = t.map((ti, i) => ({ t: ti, v: v[i]! })).filter((p) => !Number.isNaN(p.v))
  const xs = pts.map((p) => p.v)
  const n = xs.length
  let total = 0
  for (const x of xs) total += x
  const mean = total / n
  let ss = 0
  for (const x of xs) ss += (x - mean) * (x - mean)
  const sorted = Float64Array.from(xs).sort()
  // type-7 quantile (linear between closest ranks), written out
  const q = (p: number): number => {
    const h = (n - 1) * p
    const lo = Math.floor(h)
    return lo + 1 < n ? sorted[lo]! + (h - lo) * (sorted[lo + 1]! - sorted[lo]!) : sorted[lo]!
  }
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2
  const we = pts.filter((p) => [0, 6].includes(new Date(p.t).getUTCDay())).map((p) => p.v)
  const wd = pts.filter((p) => ![0, 6].includes(new Date(p.t).getUTCDay())).map((p) => p.v)
  const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length
  const tm = avg(pts.map((p) => p.t))
  let sxy = 0
  let sxx = 0
  for (const p of pts) {
    sxy += (p.t - tm) * (p.v - mean)
    sxx += (p.t - tm) ** 2
  }
  return {
    samples: n,
    mean,
    median,
    stdDev: Math.sqrt(ss / (n - 1)),
    min: sorted[0]!,
    max: sorted[n - 1]!,
    p: { p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9), p95: q(0.95) },
    weekdayAvg: avg(wd),
    weekendAvg: avg(we),
    trendPerMonth: ((sxy / sxx) * MONTH) / mean,
  }
}

/** The statistics round to 3 decimals (the trend to 4). */
const near = (got: number, want: number, digits = 3): void => {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-9 * Math.abs(want))
}

describe('baseline statistics', () => {
  for (const interval of HISTORY_INTERVALS) {
    for (const name of STREAMS) {
      it(`${name} at ${interval} should match a direct computation`, () => {
        const st: StreamStatistics = book.statistics(interval).streams[name]!
        const d = direct(name, interval)
        expect(st.name).toBe(name)
        expect(st.samples).toBe(d.samples)
        near(st.mean, d.mean)
        near(st.median, d.median)
        near(st.stdDev, d.stdDev)
        expect(st.min).toBe(d.min)
        expect(st.max).toBe(d.max)
        near(st.percentiles.p25, d.p.p25)
        near(st.percentiles.p50, d.p.p50)
        near(st.percentiles.p75, d.p.p75)
        near(st.percentiles.p90, d.p.p90)
        near(st.percentiles.p95, d.p.p95)
        near(st.patterns.weekdayAvg, d.weekdayAvg)
        near(st.patterns.weekendAvg, d.weekendAvg)
        near(st.patterns.weekendLift, d.weekendAvg / d.weekdayAvg - 1)
        near(st.patterns.trendPerMonth, d.trendPerMonth, 4)
        expect(st.percentiles.p50).toBe(st.median)
        expect(st.min).toBeLessThanOrEqual(st.percentiles.p25)
        expect(st.percentiles.p95).toBeLessThanOrEqual(st.max)
      })
    }
  }

  it('should cover every stream, with complete intervals only', () => {
    const samples = { '12h': 60, '1h': 720, '15m': 2880 }
    for (const interval of HISTORY_INTERVALS) {
      const st = book.statistics(interval)
      expect(st.interval).toBe(interval)
      expect(Object.keys(st.streams)).toEqual(book.series.streams)
      expect(st.calculatedFrom).toContain('2026-01-31T00:00:00.000Z')
      expect(st.calculatedFrom).toContain(`seed ${SEED}`)
      for (const [name, s] of Object.entries(st.streams)) {
        // count streams have a value for every interval; mean streams skip empty ones
        if (s.measure === 'count') expect(s.samples, name).toBe(samples[interval])
        else expect(s.samples, name).toBeLessThanOrEqual(samples[interval])
        expect(s.patterns.hourOfDay).toHaveLength(24)
      }
    }
  })

  it('should be computed once per interval', () => {
    expect(book.statistics('1h')).toBe(book.statistics('1h'))
    expect(book.statistics()).toBe(book.statistics('12h'))
  })
})
