/**
 * Baseline statistics per stream (seed: mean, median, standard deviation, min,
 * max, percentiles, weekday/weekend averages, trend, seasonality), computed from
 * the baseline series at 12 h, 1 h or 15 min. History points are normalized
 * against the statistics of their own interval.
 */
import { DAY, HOUR, MONTH } from '../calendar.js'
import {
  BUCKET_MS,
  INTERVAL_MS,
  type HistoryInterval,
  type HistorySeries,
  type Measure,
} from './model.js'

export interface StreamStatistics {
  name: string
  measure: Measure
  /** Intervals measured (complete ones only). */
  samples: number
  mean: number
  median: number
  stdDev: number
  min: number
  max: number
  percentiles: { p25: number; p50: number; p75: number; p90: number; p95: number }
  patterns: {
    weekdayAvg: number
    weekendAvg: number
    /** weekendAvg / weekdayAvg − 1. */
    weekendLift: number
    /** e.g. `increasing (+3.4 %/month)`. */
    trend: string
    /** Least-squares slope relative to the mean, per 30 days. */
    trendPerMonth: number
    /** e.g. `daily: peak 19:00 UTC, low 03:00 UTC (5.8×); weekends +38 %`. */
    seasonality: string
    /** Mean of each UTC hour of the day relative to the overall mean (from 1 h values). */
    hourOfDay: number[]
  }
  /**
   * The seasonal baseline normalization uses: the expected value of an interval
   * is `mean × weekday[slot]` (or `weekend[slot]`), slot = interval of the UTC day
   * (`slotsPerDay` of them); `residualStdDev` is the spread around it.
   */
  seasonal: {
    slotsPerDay: number
    weekday: number[]
    weekend: number[]
    residualStdDev: number
  }
}

export interface BaselineStatistics {
  calculatedFrom: string
  interval: HistoryInterval
  streams: Record<string, StreamStatistics>
}

/** One stream's values at an interval: `t` interval starts, `v` values (NaN: no event, for mean streams). */
export interface RolledUp {
  t: number[]
  v: number[]
}

/**
 * The complete intervals of stream `s` between the series start and `end`
 * (default: the last complete interval before the run start).
 */
export function rollUp(
  series: HistorySeries,
  s: number,
  interval: HistoryInterval,
  end = series.start,
): RolledUp {
  const step = INTERVAL_MS[interval] / BUCKET_MS
  const count = series.count[s]!
  const mean = series.mean[s]!
  const isMean = series.measures[s] === 'mean'
  const t: number[] = []
  const v: number[] = []
  const last = Math.floor((Math.min(end, series.start) - series.from) / BUCKET_MS)
  for (let i = 0; i + step <= last; i += step) {
    let c = 0
    let sum = 0
    for (let j = i; j < i + step; j++) {
      const k = count[j]!
      c += k
      if (k > 0) sum += mean[j]! * k
    }
    t.push(series.from + i * BUCKET_MS)
    v.push(isMean ? (c > 0 ? Math.round((sum / c) * 100) / 100 : NaN) : c)
  }
  return { t, v }
}

const round = (x: number, d = 3): number => {
  const f = 10 ** d
  return Math.round(x * f) / f
}

/** Linear-interpolation percentile of sorted values (q in 0..1). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

/** Expected value of an interval starting at `t` under a seasonal baseline. */
export function seasonalExpected(
  st: Pick<StreamStatistics, 'mean' | 'seasonal'>,
  t: number,
): number {
  const { slotsPerDay, weekday, weekend } = st.seasonal
  const slot = Math.floor((((t % DAY) + DAY) % DAY) / (DAY / slotsPerDay))
  return st.mean * ((isWeekend(t) ? weekend : weekday)[slot] ?? 1)
}

function seasonalOf(
  xs: readonly number[],
  ts: readonly number[],
  mean: number,
  step: number,
): StreamStatistics['seasonal'] {
  const slotsPerDay = Math.max(1, Math.round(DAY / step))
  const sums = [new Array<number>(slotsPerDay).fill(0), new Array<number>(slotsPerDay).fill(0)]
  const ns = [new Array<number>(slotsPerDay).fill(0), new Array<number>(slotsPerDay).fill(0)]
  xs.forEach((x, i) => {
    const t = ts[i]!
    const w = isWeekend(t) ? 1 : 0
    const slot = Math.floor((t % DAY) / step)
    sums[w]![slot]! += x
    ns[w]![slot]!++
  })
  const rel = (w: number) =>
    sums[w]!.map((x, k) => (ns[w]![k]! > 0 && mean !== 0 ? round(x / ns[w]![k]! / mean, 4) : 1))
  const seasonal = { slotsPerDay, weekday: rel(0), weekend: rel(1), residualStdDev: 0 }
  let sq = 0
  xs.forEach((x, i) => {
    sq += (x - seasonalExpected({ mean, seasonal }, ts[i]!)) ** 2
  })
  seasonal.residualStdDev = xs.length > 1 ? round(Math.sqrt(sq / (xs.length - 1))) : 0
  return seasonal
}

const isWeekend = (t: number): boolean => {
  const d = new Date(t).getUTCDay()
  return d === 0 || d === 6
}

/** Statistics of every stream at `interval`. */
export function baselineStatistics(
  series: HistorySeries,
  interval: HistoryInterval = '12h',
): BaselineStatistics {
  const streams: Record<string, StreamStatistics> = {}
  series.streams.forEach((name, s) => {
    streams[name] = streamStatistics(series, s, interval)
  })
  return {
    calculatedFrom: `${new Date(series.from).toISOString()} to ${new Date(series.start).toISOString()} (${interval} intervals, world ${series.world}, seed ${series.seed})`,
    interval,
    streams,
  }
}

export function streamStatistics(
  series: HistorySeries,
  s: number,
  interval: HistoryInterval,
): StreamStatistics {
  const { t, v } = rollUp(series, s, interval)
  const xs: number[] = []
  const ts: number[] = []
  v.forEach((x, i) => {
    if (Number.isFinite(x)) {
      xs.push(x)
      ts.push(t[i]!)
    }
  })
  const n = xs.length
  const mean = n > 0 ? xs.reduce((a, b) => a + b, 0) / n : 0
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0
  const sorted = [...xs].sort((a, b) => a - b)
  let wd = 0
  let wdn = 0
  let we = 0
  let wen = 0
  xs.forEach((x, i) => {
    if (isWeekend(ts[i]!)) {
      we += x
      wen++
    } else {
      wd += x
      wdn++
    }
  })
  const weekdayAvg = wdn > 0 ? wd / wdn : 0
  const weekendAvg = wen > 0 ? we / wen : 0
  // trend: least-squares slope over the whole window, relative to the mean, per 30 days
  const tm = ts.reduce((a, b) => a + b, 0) / Math.max(1, n)
  let sxy = 0
  let sxx = 0
  xs.forEach((x, i) => {
    sxy += (ts[i]! - tm) * (x - mean)
    sxx += (ts[i]! - tm) ** 2
  })
  const slope = sxx > 0 ? sxy / sxx : 0
  const perMonth = mean !== 0 ? (slope * MONTH) / mean : 0
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`
  const trend =
    Math.abs(perMonth) < 0.01
      ? `stable (${pct(perMonth)}/month)`
      : `${perMonth > 0 ? 'increasing' : 'decreasing'} (${pct(perMonth)}/month)`
  // time of day, from 1 h values
  const hourly = rollUp(series, s, '1h')
  const hs = new Array<number>(24).fill(0)
  const hn = new Array<number>(24).fill(0)
  hourly.v.forEach((x, i) => {
    if (!Number.isFinite(x)) return
    const h = Math.floor((hourly.t[i]! % DAY) / HOUR)
    hs[h]! += x
    hn[h]!++
  })
  const hmeans = hs.map((x, h) => (hn[h]! > 0 ? x / hn[h]! : 0))
  const hAll = hmeans.reduce((a, b) => a + b, 0) / 24
  const hourOfDay = hmeans.map((x) => (hAll > 0 ? round(x / hAll) : 0))
  const peak = hmeans.indexOf(Math.max(...hmeans))
  const low = hmeans.indexOf(Math.min(...hmeans))
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00 UTC`
  const ratio = hmeans[low]! > 0 ? hmeans[peak]! / hmeans[low]! : Infinity
  const lift = weekdayAvg > 0 ? weekendAvg / weekdayAvg - 1 : 0
  const daily =
    ratio < 1.15
      ? 'no daily cycle'
      : `daily: peak ${hh(peak)}, low ${hh(low)} (${Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : 'none at the low'})`
  const weekly = Math.abs(lift) < 0.05 ? 'no weekly cycle' : `weekends ${pct(lift)}`
  return {
    name: series.streams[s]!,
    measure: series.measures[s]!,
    samples: n,
    seasonal: seasonalOf(xs, ts, mean, INTERVAL_MS[interval]),
    mean: round(mean),
    median: round(percentile(sorted, 0.5)),
    stdDev: round(sd),
    min: n > 0 ? sorted[0]! : 0,
    max: n > 0 ? sorted[n - 1]! : 0,
    percentiles: {
      p25: round(percentile(sorted, 0.25)),
      p50: round(percentile(sorted, 0.5)),
      p75: round(percentile(sorted, 0.75)),
      p90: round(percentile(sorted, 0.9)),
      p95: round(percentile(sorted, 0.95)),
    },
    patterns: {
      weekdayAvg: round(weekdayAvg),
      weekendAvg: round(weekendAvg),
      weekendLift: round(lift),
      trend,
      trendPerMonth: round(perMonth, 4),
      seasonality: `${daily}; ${weekly}`,
      hourOfDay,
    },
  }
}
