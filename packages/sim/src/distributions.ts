/**
 * Random quantities declared in the world config (values, delays, categorical
 * fields), compiled once at load into plain sampling functions, with their baseline
 * mean and standard deviation: analytic for the plain families, from a fixed-seed
 * sample of 50,000 draws when the distribution is clamped (so it is still a pure
 * function of the config).
 */
import type { Distribution } from '@verisim/schema'
import { Rng, deriveKey } from './rng.js'

export type Sampler<T = number> = (rng: Rng) => T

export interface CompiledDistribution {
  readonly sample: Sampler<unknown>
  /** Present when every outcome is a number. */
  readonly numeric: Sampler<number> | undefined
  /** Baseline statistics of numeric distributions (NaN otherwise). */
  readonly mean: number
  readonly sd: number
  readonly statsSource: 'analytic' | 'sampled' | 'none'
}

/** Raised for a missing or wrong parameter; the loader turns it into a WorldConfigError. */
export class DistributionParamError extends Error {
  constructor(
    readonly param: string,
    readonly expected: string,
  ) {
    super(`${param}: expected ${expected}`)
  }
}

const need = (d: Distribution, key: keyof Distribution, what = 'a number'): number => {
  const v = d[key]
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new DistributionParamError(key, `${what} for a ${d.type} distribution`)
  return v
}

const SAMPLE_STATS_N = 50_000

export function compileDistribution(d: Distribution): CompiledDistribution {
  let base: Sampler<number> | undefined
  let any: Sampler<unknown> | undefined
  let mean = NaN
  let sd = NaN
  switch (d.type) {
    case 'constant': {
      const v = d.value
      if (v === undefined)
        throw new DistributionParamError('value', 'a number or string for a constant distribution')
      if (typeof v === 'number') {
        base = () => v
        mean = v
        sd = 0
      } else any = () => v
      break
    }
    case 'uniform': {
      const lo = need(d, 'min')
      const hi = need(d, 'max')
      if (hi < lo) throw new DistributionParamError('max', `a number >= min (${lo})`)
      base = (r) => lo + (hi - lo) * r.next()
      mean = (lo + hi) / 2
      sd = (hi - lo) / Math.sqrt(12)
      break
    }
    case 'normal': {
      const m = need(d, 'mean')
      const s = need(d, 'sd')
      base = (r) => m + s * r.normal()
      mean = m
      sd = s
      break
    }
    case 'lognormal': {
      const mu = Math.log(need(d, 'median', 'a positive number'))
      const s = need(d, 'sigma')
      base = (r) => Math.exp(mu + s * r.normal())
      mean = Math.exp(mu + (s * s) / 2)
      sd = mean * Math.sqrt(Math.expm1(s * s))
      break
    }
    case 'gamma': {
      const k = need(d, 'shape', 'a positive number')
      const th = need(d, 'scale', 'a positive number')
      base = (r) => th * r.gamma(k)
      mean = k * th
      sd = Math.sqrt(k) * th
      break
    }
    case 'exponential': {
      const m = need(d, 'mean')
      if (m <= 0)
        throw new DistributionParamError(
          'mean',
          'a positive number for an exponential distribution',
        )
      base = (r) => m * r.exp()
      mean = m
      sd = m
      break
    }
    case 'poisson': {
      const m = need(d, 'mean')
      if (m < 0)
        throw new DistributionParamError('mean', 'a non-negative number for a poisson distribution')
      base = (r) => r.poisson(m)
      mean = m
      sd = Math.sqrt(m)
      break
    }
    case 'categorical': {
      const values = d.values
      const weights = d.weights
      if (!values || values.length === 0)
        throw new DistributionParamError(
          'values',
          'a non-empty array for a categorical distribution',
        )
      if (!weights || weights.length !== values.length)
        throw new DistributionParamError(
          'weights',
          `an array of ${values.length} weights (one per value)`,
        )
      const total = weights.reduce((a, b) => a + b, 0)
      if (!(total > 0)) throw new DistributionParamError('weights', 'weights with a positive sum')
      const cum = new Float64Array(weights.length)
      let acc = 0
      for (let i = 0; i < weights.length; i++) cum[i] = acc += weights[i]! / total
      const n = values.length
      const pick = (r: Rng): number => {
        const u = r.next()
        let i = 0
        while (i < n - 1 && u >= cum[i]!) i++
        return i
      }
      if (values.every((v) => typeof v === 'number')) {
        const nums = values as number[]
        base = (r) => nums[pick(r)]!
        mean = nums.reduce((a, v, i) => a + (v * weights[i]!) / total, 0)
        sd = Math.sqrt(nums.reduce((a, v, i) => a + ((v - mean) ** 2 * weights[i]!) / total, 0))
      } else any = (r) => values[pick(r)]
      break
    }
  }
  if (!base) {
    if (
      d.offset !== undefined ||
      d.clampMin !== undefined ||
      d.clampMax !== undefined ||
      d.round !== undefined
    )
      throw new DistributionParamError(
        'type',
        'a numeric distribution when offset, clamp or round is given',
      )
    return { sample: any!, numeric: undefined, mean: NaN, sd: NaN, statsSource: 'none' }
  }
  const offset = d.offset ?? 0
  const lo = d.clampMin ?? -Infinity
  const hi = d.clampMax ?? Infinity
  if (hi < lo) throw new DistributionParamError('clampMax', `a number >= clampMin (${lo})`)
  const pow = d.round === undefined ? 0 : 10 ** d.round
  const clamped = lo !== -Infinity || hi !== Infinity
  const b = base
  let numeric: Sampler<number> = b
  if (offset !== 0 || clamped || pow !== 0) {
    numeric = (r) => {
      let v = b(r) + offset
      if (v < lo) v = lo
      else if (v > hi) v = hi
      return pow !== 0 ? Math.round(v * pow) / pow : v
    }
  }
  mean += offset
  let statsSource: CompiledDistribution['statsSource'] = 'analytic'
  if (clamped) {
    // No closed form for every clamped family: estimate once from a fixed-seed sample.
    const rng = new Rng(deriveKey(0x5eed, JSON.stringify(d)))
    let s = 0
    let s2 = 0
    for (let i = 0; i < SAMPLE_STATS_N; i++) {
      const v = numeric(rng)
      s += v
      s2 += v * v
    }
    mean = s / SAMPLE_STATS_N
    sd = Math.sqrt(Math.max(0, s2 / SAMPLE_STATS_N - mean * mean))
    statsSource = 'sampled'
  }
  return { sample: numeric, numeric, mean, sd, statsSource }
}

/** One-line human description of a distribution (for docs/streams.md). */
export function describeDistribution(d: Distribution): string {
  let s = ''
  switch (d.type) {
    case 'constant':
      s = `constant ${String(d.value)}`
      break
    case 'uniform':
      s = `uniform ${d.min}–${d.max}`
      break
    case 'normal':
      s = `normal(mean ${d.mean}, sd ${d.sd})`
      break
    case 'lognormal':
      s = `lognormal(median ${d.median}, σ ${d.sigma})`
      break
    case 'gamma':
      s = `gamma(shape ${d.shape}, scale ${d.scale})`
      break
    case 'exponential':
      s = `exponential(mean ${d.mean})`
      break
    case 'poisson':
      s = `poisson(mean ${d.mean})`
      break
    case 'categorical': {
      const total = (d.weights ?? []).reduce((a, b) => a + b, 0)
      s = (d.values ?? [])
        .map((v, i) => `${String(v)} ${Math.round(((d.weights?.[i] ?? 0) / total) * 100)}%`)
        .join(', ')
      break
    }
  }
  if (d.offset) s = `${d.offset} + ${s}`
  if (d.clampMin !== undefined || d.clampMax !== undefined)
    s += `, within [${d.clampMin ?? '−∞'}, ${d.clampMax ?? '∞'}]`
  return s
}
