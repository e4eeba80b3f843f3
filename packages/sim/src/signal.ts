/**
 * The live stream signal behind each event's `normalizedValue` and `anomalyFlag`
 * (docs/SIGNAL.md; the formulas are @verisim/schema's signal.ts, shared with the
 * history's `normalized`).
 *
 * Time is cut into 15-minute buckets (the history's). Each stream keeps its
 * counts, value sums and expected counts of its last `k` complete buckets — its
 * window, `k` sized so the window expects about `windowEvents` events (a rare
 * stream gets a longer window, so it is not all noise). The expected counts are
 * the history model's mean field for those very buckets (time of day, day of
 * week, calendar, growth, chains), started cold at the engine's start like the
 * engine itself. When a bucket completes, every stream's signal and flag are
 * updated once; every event until the next bucket boundary carries them. So the
 * signal of an event is its stream's state over its last complete window, flags
 * change at most once per bucket, and a run split anyhow yields the same values.
 */
import {
  clipValue,
  combineZ,
  nextFlagLevel,
  normalizeSignal,
  rateZ,
  valueZ,
  type AnomalyFlag,
} from '@verisim/schema'
import { DAY } from './calendar.js'
import { BUCKET_MS, HistoryModel } from './history/model.js'
import type { World } from './world/types.js'
import { SimError, SimErrorCode } from './errors.js'

const FLAGS: readonly AnomalyFlag[] = ['normal', 'warning', 'critical']
/** The mean field's step: a third of a bucket (see HistoryModelOptions.resolutionMs). */
const RESOLUTION_MS = BUCKET_MS / 3
/** The shortest span (buckets) a stream's multi-scale z looks back over: an hour. */
const MIN_SPAN = 4
/** Buckets of expected counts computed at a time (one week). */
const CHUNK = (7 * DAY) / BUCKET_MS

/** One stream's signal at a bucket boundary (for tests, the scorecard and `GET /api/world`). */
export interface StreamSignal {
  stream: string
  /** Window length in 15-minute buckets. */
  window: number
  /** Events in the window and the baseline's expectation for it. */
  count: number
  expected: number
  /** Mean (clipped) value of the window's events, NaN without any. */
  valueMean: number
  /** The window's z (behind `normalized`). */
  z: number
  /** The most extreme z over the spans the flag watches (1, 2, 4 … buckets up to the window, at least an hour). */
  flagZ: number
  normalized: number
  flag: AnomalyFlag
}

/**
 * The baseline's expected count of every stream in each 15-minute bucket: the
 * history model's mean field at a 5-minute step, started empty at the engine's
 * start `origin` (like the engine), a week at a time. The generator stores the same
 * numbers with the history so its `normalized` uses them too.
 */
export class ExpectedRates {
  readonly world: World
  readonly #model: HistoryModel
  readonly #origin: number
  /** Expected counts of buckets [#chunkFrom, #chunkFrom + CHUNK), one array (of streams) per bucket. */
  #chunkFrom = NaN
  #chunk: Float64Array[] = []
  /** Mean expected events per bucket over a steady-state week, per stream. */
  readonly perBucket: Float64Array

  /** `perBucket` given (a snapshot's): not computed again. */
  constructor(world: World, seed: number, origin: number, perBucket?: Float64Array) {
    this.world = world
    this.#origin = origin
    this.#model = new HistoryModel({
      world,
      seed,
      start: origin,
      origin,
      days: 1,
      resolutionMs: RESOLUTION_MS,
    })
    if (perBucket !== undefined) {
      this.perBucket = perBucket
      return
    }
    const week = this.#coarse(Math.floor(origin / BUCKET_MS) * BUCKET_MS, -Infinity)
    this.perBucket = Float64Array.from(
      world.streams,
      (_, i) => week.reduce((a, b) => a + b[i]!, 0) / CHUNK,
    )
  }

  /** Engine snapshots: the steady state's means and the cached week (computing them takes ~0.3 s each). */
  saveState(): Record<string, unknown> {
    return { perBucket: this.perBucket, chunkFrom: this.#chunkFrom, chunk: this.#chunk }
  }

  /** Restores {@link saveState}'s cache (`perBucket` goes to the constructor). */
  loadState(data: Record<string, unknown>): void {
    this.#chunkFrom = data.chunkFrom as number
    this.#chunk = data.chunk as Float64Array[]
  }

  /** Variance-to-mean ratio of stream `s`'s counts (HistoryModel.dispersion). */
  dispersion(s: number): number {
    return this.#model.dispersion(s)
  }

  /**
   * Expected counts of every stream in absolute bucket `b` (`b·BUCKET_MS` its
   * start); the bucket holding `origin` counts only its part after it.
   */
  bucket(b: number): Float64Array {
    const i = b - this.#chunkFrom
    if (!(i >= 0 && i < CHUNK)) {
      this.#chunkFrom = b
      const cold = Math.ceil(this.#origin / BUCKET_MS) * BUCKET_MS
      this.#chunk = this.#coarse(b * BUCKET_MS, cold)
      const t = b * BUCKET_MS
      if (t < this.#origin) {
        const frac = Math.max(0, (t + BUCKET_MS - this.#origin) / BUCKET_MS)
        this.#chunk[0] = this.#chunk[0]!.map((x) => x * frac)
      }
    }
    return this.#chunk[b - this.#chunkFrom]!
  }

  /**
   * The steady state's expected counts of `n` buckets from `from` (a multiple of
   * BUCKET_MS), per stream: what a history span that did not start empty expects.
   */
  steady(from: number, n: number): Float64Array[] {
    const f = BUCKET_MS / RESOLUTION_MS
    const c = this.#model.expectedCounts(from, n * f, -Infinity).count
    return c.map((col) => {
      const out = new Float64Array(n)
      for (let j = 0; j < n; j++) {
        let x = 0
        for (let i = j * f; i < (j + 1) * f; i++) x += col[i]!
        out[j] = x
      }
      return out
    })
  }

  /** Expected counts of a week of 15-minute buckets from `from`, one array (of streams) per bucket. */
  #coarse(from: number, coldFrom: number): Float64Array[] {
    const f = BUCKET_MS / RESOLUTION_MS
    const c = this.#model.expectedCounts(from, CHUNK * f, coldFrom).count
    return Array.from({ length: CHUNK }, (_, j) =>
      Float64Array.from(c, (col) => {
        let x = 0
        for (let i = j * f; i < (j + 1) * f; i++) x += col[i]!
        return x
      }),
    )
  }
}

export class SignalTracker {
  readonly #world: World
  readonly #rates: ExpectedRates
  /** Absolute number of the bucket being filled. */
  #bucket: number
  readonly #k: Int32Array
  readonly #kind: Uint8Array
  readonly #mu: Float64Array
  /** Each stream's value clip range (clipValue's μ ∓ 4σ). */
  readonly #lo: Float64Array
  readonly #hi: Float64Array
  /** Variance-to-mean ratio of each stream's counts (HistoryModel.dispersion). */
  readonly #disp: Float64Array
  readonly #sd: Float64Array
  // the bucket being filled
  readonly #n: Float64Array
  /** Each stream's cumulative event count at the last advanceTo. */
  readonly #seen: Float64Array
  readonly #vsum: Float64Array
  readonly #vn: Float64Array
  // the window: ring buffers of the last k complete buckets, per stream (stride K)
  readonly #K: number
  readonly #rN: Float64Array
  readonly #rE: Float64Array
  readonly #rV: Float64Array
  readonly #rVn: Float64Array
  /** Buckets completed since the start (ring position). */
  #done = 0
  readonly #z: Float64Array
  /** The z the flag follows (the most extreme span). */
  readonly #fz: Float64Array
  readonly normalized: Float64Array
  readonly level: Uint8Array

  /** `perBucket`: a snapshot's expected rates (see {@link ExpectedRates}). */
  constructor(world: World, seed: number, origin: number, perBucket?: Float64Array) {
    this.#world = world
    this.#bucket = Math.floor(origin / BUCKET_MS)
    this.#rates = new ExpectedRates(world, seed, origin, perBucket)
    const ns = world.streams.length
    this.#k = new Int32Array(ns)
    this.#kind = new Uint8Array(ns)
    this.#mu = new Float64Array(ns)
    this.#lo = new Float64Array(ns)
    this.#hi = new Float64Array(ns)
    this.#disp = new Float64Array(ns)
    this.#sd = new Float64Array(ns)
    // window sizes from the steady state's mean rate over a week
    let K = 1
    world.streams.forEach((s, i) => {
      const perBucket = this.#rates.perBucket[i]!
      const max = Math.max(1, Math.round(s.anomaly.maxWindowMinutes / 15))
      const k = perBucket > 0 ? Math.ceil(s.anomaly.windowEvents / perBucket) : max
      this.#k[i] = Math.min(max, Math.max(1, k))
      K = Math.max(K, this.#k[i]!, MIN_SPAN)
      this.#kind[i] = s.signalKind === 'rate' ? 1 : s.signalKind === 'value' ? 2 : 3
      this.#disp[i] = this.#rates.dispersion(i)
      this.#mu[i] = s.baseline.mean
      this.#lo[i] = clipValue(-Infinity, s.baseline.mean, s.baseline.sd)
      this.#hi[i] = clipValue(Infinity, s.baseline.mean, s.baseline.sd)
      this.#sd[i] = s.baseline.sd
    })
    this.#K = K
    this.#n = new Float64Array(ns)
    this.#seen = new Float64Array(ns)
    this.#vsum = new Float64Array(ns)
    this.#vn = new Float64Array(ns)
    this.#rN = new Float64Array(ns * K)
    this.#rE = new Float64Array(ns * K)
    this.#rV = new Float64Array(ns * K)
    this.#rVn = new Float64Array(ns * K)
    this.#z = new Float64Array(ns)
    this.#fz = new Float64Array(ns)
    this.normalized = new Float64Array(ns).fill(50)
    this.level = new Uint8Array(ns)
  }

  /** Engine snapshots: the bucket being filled, the windows' ring buffers and the current signal. */
  saveState(): Record<string, unknown> {
    return {
      rates: this.#rates.saveState(),
      bucket: this.#bucket,
      done: this.#done,
      n: this.#n,
      seen: this.#seen,
      vsum: this.#vsum,
      vn: this.#vn,
      rN: this.#rN,
      rE: this.#rE,
      rV: this.#rV,
      rVn: this.#rVn,
      z: this.#z,
      fz: this.#fz,
      normalized: this.normalized,
      level: this.level,
    }
  }

  /** Restores {@link saveState}'s data into this tracker (built for the same world, seed and start). */
  loadState(data: Record<string, unknown>): void {
    const d = data as Record<string, number> & Record<string, Float64Array | Uint8Array>
    this.#rates.loadState(d.rates as unknown as Record<string, unknown>)
    this.#bucket = d.bucket as number
    this.#done = d.done as number
    const arrays: [Float64Array | Uint8Array, string][] = [
      [this.#n, 'n'],
      [this.#seen, 'seen'],
      [this.#vsum, 'vsum'],
      [this.#vn, 'vn'],
      [this.#rN, 'rN'],
      [this.#rE, 'rE'],
      [this.#rV, 'rV'],
      [this.#rVn, 'rVn'],
      [this.#z, 'z'],
      [this.#fz, 'fz'],
      [this.normalized, 'normalized'],
      [this.level, 'level'],
    ]
    for (const [into, key] of arrays) {
      const from = d[key] as Float64Array | Uint8Array
      if (from?.length !== into.length)
        throw new SimError(
          SimErrorCode.badArgument,
          `snapshot: the signal's ${key} holds ${from?.length ?? 'no'} values, this world ${into.length}`,
        )
      into.set(from)
    }
  }

  /**
   * Completes every bucket that ends at or before `t`, reading each stream's
   * events from `emitted(s)` (its cumulative count so far: everything since the
   * last call fell in the bucket being filled); returns the end of the bucket now
   * being filled (the engine calls again only once an event reaches it).
   */
  advanceTo(t: number, emitted: (s: number) => number): number {
    const b = Math.floor(t / BUCKET_MS)
    if (this.#bucket < b) {
      for (let s = 0; s < this.#n.length; s++) {
        const c = emitted(s)
        this.#n[s]! += c - this.#seen[s]!
        this.#seen[s] = c
      }
      while (this.#bucket < b) this.#complete()
    }
    return (this.#bucket + 1) * BUCKET_MS
  }

  /** Whether stream `s`'s signal watches its value (then `observeValue` its events). */
  watchesValue(s: number): boolean {
    return (this.#kind[s]! & 2) !== 0
  }

  /**
   * Adds the primary value `v` of an event of stream `s`, whose value is watched
   * (events themselves are counted from `advanceTo`'s `emitted`).
   */
  observeValue(s: number, v: number): void {
    if (v === v) {
      // clipValue, inlined: the busiest streams pass here
      const lo = this.#lo[s]!
      const hi = this.#hi[s]!
      this.#vsum[s]! += v < lo ? lo : v > hi ? hi : v
      this.#vn[s]!++
    }
  }

  flag(s: number): AnomalyFlag {
    return FLAGS[this.level[s]!]!
  }

  /** Every stream's signal as of the last completed bucket. */
  signals(): StreamSignal[] {
    return this.#world.streams.map((st, s) => {
      const w = this.#window(s)
      return {
        stream: st.name,
        window: this.#k[s]!,
        count: w.n,
        expected: Math.round(w.e * 100) / 100,
        valueMean: w.vn > 0 ? Math.round((w.v / w.vn) * 100) / 100 : NaN,
        z: Math.round(this.#z[s]! * 100) / 100,
        flagZ: Math.round(this.#fz[s]! * 100) / 100,
        normalized: this.normalized[s]!,
        flag: this.flag(s),
      }
    })
  }

  /**
   * The z its flag follows: the most extreme over its last 1, 2, 4 … buckets up to
   * its window, and at least up to an hour (a sudden change shows within a bucket
   * or two, a slow or small one over the longer spans).
   */
  #zOf(s: number): number {
    const span = this.#span(s)
    let best = this.#zOver(s, this.#k[s]!)
    for (let j = 1; ; j *= 2) {
      best = combineZ(best, this.#zOver(s, Math.min(j, span)))
      if (j >= span) return best
    }
  }

  /** The signal z of stream `s` over its last `buckets` complete buckets. */
  #zOver(s: number, buckets: number): number {
    const rule = this.#world.streams[s]!.anomaly
    const kind = this.#kind[s]!
    const w = this.#window(s, buckets)
    const zr = kind & 1 ? rateZ(w.n, w.e, rule.tolerance, this.#disp[s]!) : 0
    const zv =
      kind & 2 && w.vn > 0
        ? valueZ(w.v / w.vn, w.vn, this.#mu[s]!, this.#sd[s]!, rule.valueTolerance)
        : 0
    return combineZ(zr, zv)
  }

  /** Buckets the multi-scale z looks back over: the window, at least {@link MIN_SPAN}. */
  #span(s: number): number {
    return Math.max(this.#k[s]!, MIN_SPAN)
  }

  #window(s: number, buckets = this.#k[s]!): { n: number; e: number; v: number; vn: number } {
    const K = this.#K
    const k = Math.min(buckets, this.#done)
    let n = 0
    let e = 0
    let v = 0
    let vn = 0
    for (let j = 1; j <= k; j++) {
      const at = s * K + ((this.#done - j) % K)
      n += this.#rN[at]!
      e += this.#rE[at]!
      v += this.#rV[at]!
      vn += this.#rVn[at]!
    }
    return { n, e, v, vn }
  }

  #complete(): void {
    const b = this.#bucket
    const exp = this.#rates.bucket(b)
    const K = this.#K
    const pos = this.#done % K
    const streams = this.#world.streams
    for (let s = 0; s < streams.length; s++) {
      const at = s * K + pos
      this.#rN[at] = this.#n[s]!
      this.#rE[at] = exp[s]!
      this.#rV[at] = this.#vsum[s]!
      this.#rVn[at] = this.#vn[s]!
      this.#n[s] = 0
      this.#vsum[s] = 0
      this.#vn[s] = 0
    }
    this.#done++
    for (let s = 0; s < streams.length; s++) {
      // normalizedValue: the window (as a history point of that span reads it);
      // the flag: the most extreme span, so a sudden change is flagged at once
      const z = this.#zOver(s, this.#k[s]!)
      this.#z[s] = z
      this.normalized[s] = normalizeSignal(z)
      const fz = this.#zOf(s)
      this.#fz[s] = fz
      this.level[s] = nextFlagLevel(this.level[s]!, fz, streams[s]!.anomaly)
    }
    this.#bucket = b + 1
  }
}
