/**
 * The rate model: how busy a stream is at a given hour, relative to its baseline
 * daily mean. Factor = time of day × day of week × academic calendar × growth,
 * per seasonality profile (baseline-metrics.json `seasonality`). Rates are constant
 * within each UTC hour, which makes arrivals a piecewise-homogeneous Poisson
 * process that can be sampled exactly (see `engine.ts`).
 */
import type { CalendarPeriod, SeasonalityProfile } from '@verisim/schema'
import {
  DAY,
  HOUR,
  MONTH,
  dayOfWeek,
  hourOfDay,
  inPeriod,
  monthDay,
  parseMonthDay,
} from './calendar.js'

export interface CompiledProfile {
  readonly name: string
  /** Per UTC hour, mean 1. */
  readonly hourly: Float64Array
  /** Per weekday (Sunday first), mean 1. */
  readonly weekly: Float64Array
  readonly calendar: boolean
  readonly growth: boolean
}

export interface CompiledPeriod {
  readonly name: string
  readonly kind: string
  readonly from: number
  readonly to: number
  readonly multiplier: number
}

/** Normalizes a profile so its hourly and weekly factors each average 1. */
export function compileProfile(name: string, p: SeasonalityProfile): CompiledProfile {
  const norm = (xs: readonly number[]): Float64Array => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length
    return Float64Array.from(xs, (x) => (mean > 0 ? x / mean : 0))
  }
  return {
    name,
    hourly: norm(p.hourly),
    weekly: norm(p.weekly),
    calendar: p.calendar,
    growth: p.growth,
  }
}

export function compilePeriods(periods: readonly CalendarPeriod[]): CompiledPeriod[] {
  return periods.map((p) => ({
    name: p.name,
    kind: p.kind,
    from: parseMonthDay(p.from),
    to: parseMonthDay(p.to),
    multiplier: p.multiplier,
  }))
}

/** Product of the multipliers of every calendar period containing the UTC day of `ms`. */
export function calendarMultiplier(periods: readonly CompiledPeriod[], ms: number): number {
  const md = monthDay(ms)
  let m = 1
  for (const p of periods) if (inPeriod(md, p.from, p.to)) m *= p.multiplier
  return m
}

const CACHE_BITS = 13
const CACHE_SIZE = 1 << CACHE_BITS

/**
 * Hourly activity factors of every profile, memoized per (profile, hour). Growth
 * compounds monthly from `origin` (the engine's start).
 *
 * @example
 * const rm = new RateModel(profiles, periods, 0.035, start)
 * rm.factor(0, Math.floor(t / HOUR)) // e.g. 1.7 at 18:00 on a school day
 */
export class RateModel {
  readonly profiles: readonly CompiledProfile[]
  readonly periods: readonly CompiledPeriod[]
  readonly monthlyGrowth: number
  readonly origin: number
  readonly #keys: Float64Array[]
  readonly #vals: Float64Array[]
  #calDay = NaN
  #calMult = 1

  constructor(
    profiles: readonly CompiledProfile[],
    periods: readonly CompiledPeriod[],
    monthlyGrowth: number,
    origin: number,
  ) {
    this.profiles = profiles
    this.periods = periods
    this.monthlyGrowth = monthlyGrowth
    this.origin = origin
    this.#keys = profiles.map(() => new Float64Array(CACHE_SIZE).fill(NaN))
    this.#vals = profiles.map(() => new Float64Array(CACHE_SIZE))
  }

  /** Growth factor at instant `ms` relative to the origin. */
  growth(ms: number): number {
    return Math.pow(1 + this.monthlyGrowth, (ms - this.origin) / MONTH)
  }

  /** Activity factor of profile `p` during UTC hour number `hour` (= floor(ms / HOUR)). */
  factor(p: number, hour: number): number {
    const slot = hour & (CACHE_SIZE - 1)
    const keys = this.#keys[p]!
    if (keys[slot] === hour) return this.#vals[p]![slot]!
    const v = this.compute(p, hour)
    keys[slot] = hour
    this.#vals[p]![slot] = v
    return v
  }

  /** Uncached {@link factor}. */
  compute(p: number, hour: number): number {
    const prof = this.profiles[p]!
    const start = hour * HOUR
    let f = prof.hourly[hourOfDay(start)]! * prof.weekly[dayOfWeek(start)]!
    if (prof.calendar) {
      const day = Math.floor(start / DAY)
      if (day !== this.#calDay) {
        this.#calDay = day
        this.#calMult = calendarMultiplier(this.periods, start)
      }
      f *= this.#calMult
    }
    if (prof.growth) f *= this.growth(start + HOUR / 2)
    return f
  }
}
