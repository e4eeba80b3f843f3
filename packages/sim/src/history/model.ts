/**
 * History: the engine's world model run at the level of 15-minute buckets instead
 * of single events, so 30 days of all streams take milliseconds, not the half a
 * minute the event-level engine needs for them.
 *
 * It is the same model, not a second one: root streams use the engine's
 * RateModel (time of day × day of week × academic calendar × growth) and their
 * configured rates; every other stream is driven through the world's relationship
 * chains with their probabilities, `when` conditions and delay distributions
 * (sampled into bucket kernels), sessions are placed by the engine's slot rule
 * (slot profile × lead-time decay) and outcomes anchored to a session's start or
 * end follow the session; modifiers come from the engine's own ScenarioController
 * (timeline.ts). Counts are drawn per bucket (Poisson around the expectation from
 * the drawn counts of the triggering streams, so ratios such as confirmations per
 * request hold interval by interval); means of the primary value around the
 * stream's baseline value statistics.
 *
 * Each bucket's draws use their own key (seed, stream, absolute bucket number):
 * a modification changes exactly the buckets whose expectation it changes, and
 * everything else stays byte-identical.
 *
 * Not modelled at this level: the supply factor of outcomes tied to tutor supply
 * (1 at baseline) and behaviour-level refusals (e.g. no student to pick), which
 * are rare in a populated world.
 */
import { DAY, HOUR, MINUTE } from '../calendar.js'
import type { StreamParams } from '../modifiers.js'
import { RateModel } from '../rates.js'
import { Rng, deriveKey } from '../rng.js'
import type { MeanFieldHooks } from '../kit/module.js'
import { Anchor, ArrivalKind, type World, type WorldChain } from '../world/types.js'
import { buildTimeline, type HistoryModification, type Segment, type Timeline } from './timeline.js'

export const BUCKET_MS = 15 * MINUTE
export const HISTORY_DAYS = 30
export const INTERVAL_MS = { '15m': 15 * MINUTE, '1h': HOUR, '12h': 12 * HOUR } as const
export type HistoryInterval = keyof typeof INTERVAL_MS
export const HISTORY_INTERVALS = Object.keys(INTERVAL_MS) as HistoryInterval[]
/** `count`: events per interval; `mean`: mean primary value (periodic streams: the count is fixed by the period). */
export type Measure = 'count' | 'mean'

/** Share of (stream, 12 h interval) pairs that carry a small anomaly in the baseline. */
export const ANOMALY_SHARE = 0.075

export interface BaselineAnomaly {
  stream: string
  start: number
  end: number
  /** Multiplier applied to the expected count (count streams) or the mean (mean streams). */
  change: number
}

export interface HistorySeries {
  world: string
  seed: number
  /** Simulation start of the run: the series ends here and live data continues it. */
  start: number
  /** First bucket (a multiple of 12 h). */
  from: number
  bucketMs: number
  /** Buckets; the last one is partial when `start` is not on the bucket grid. */
  n: number
  streams: readonly string[]
  measures: readonly Measure[]
  /** Events per bucket, per stream. */
  count: Float64Array[]
  /** Mean primary value per bucket (NaN when the bucket has no event), per stream. */
  mean: Float64Array[]
}

export interface GeneratedHistory {
  series: HistorySeries
  anomalies: BaselineAnomaly[]
  timeline: Timeline
  /**
   * Where this generation can differ from one without the modifications: the
   * modified span extended by the longest downstream delay, clipped to the series;
   * null without modifications.
   */
  window: { start: number; end: number } | null
}

export interface HistoryModelOptions {
  world: World
  seed: number
  /** Simulation start of the run (epoch ms). */
  start: number
  /** Origin of the growth trend: the live engine's start (run start − warm-up). Default `start`. */
  origin?: number
  days?: number
  /**
   * Bucket length of the computation (a divisor of BUCKET_MS; default BUCKET_MS).
   * Only `expectedCounts` uses a finer one: events that cluster on the session grid
   * (completions just before and after :00, charges minutes later) land in the right
   * 15-minute bucket only when the chains are followed at a finer step.
   */
  resolutionMs?: number
}

interface Kernel {
  /** Offset of `w[0]` in buckets (may be negative for outcomes before a session start). */
  min: number
  w: Float64Array
}

interface Edge {
  chain: WorldChain
  j: number
  to: number
  anchor: number
  kernel: Kernel
  /** P(chain's `when` holds). */
  when: number
}

const KERNEL_DRAWS = 4096

export class HistoryModel {
  readonly world: World
  readonly seed: number
  readonly start: number
  readonly from: number
  readonly n: number
  /** Buckets simulated before `from` so that chains are in their steady state there. */
  readonly leadIn: number
  readonly measures: readonly Measure[]
  readonly #rm: RateModel
  readonly #origin: number
  readonly #order: number[]
  readonly #edges: Edge[][]
  /** Self-loop probability weight per stream (chat messages answering chat messages). */
  readonly #self: (Edge | undefined)[]
  readonly #lag: number
  /** Buckets the session-start series run past the series end (outcomes before a session's start). */
  readonly #tail: number
  /** Per stream: how far (buckets) a change to it can reach forward / backward through the chains. */
  readonly #reachFwd: Float64Array
  readonly #reachBack: Float64Array
  /** The stream whose events create the contexts anchors refer to (−1: none), and the module's hooks for it. */
  readonly #requestStream: number
  readonly #anchored: MeanFieldHooks['anchored']
  readonly #rng = new Rng(0)
  /** Bucket length the model computes at (BUCKET_MS, or a divisor of it for the mean field). */
  readonly #B: number

  constructor(opts: HistoryModelOptions) {
    const { world, seed, start } = opts
    const days = opts.days ?? HISTORY_DAYS
    const B = opts.resolutionMs ?? BUCKET_MS
    if (!(B > 0 && BUCKET_MS % B === 0))
      throw new RangeError(`history: resolutionMs must divide ${BUCKET_MS} ms, got ${B}`)
    this.#B = B
    this.world = world
    this.seed = seed
    this.start = start
    this.#origin = opts.origin ?? start
    this.from = Math.floor(start / (12 * HOUR)) * 12 * HOUR - days * DAY
    this.n = Math.ceil((start - this.from) / this.#B)
    this.#rm = new RateModel(
      world.profiles,
      world.periods,
      world.config.baseline.growth.monthly,
      this.#origin,
    )
    this.measures = world.streams.map((s) =>
      s.arrivalKind === ArrivalKind.periodic ? 'mean' : 'count',
    )
    const ns = world.streams.length
    this.#edges = world.streams.map(() => [])
    this.#self = world.streams.map(() => undefined)
    const kr = new Rng(deriveKey(seed, 'history', 'kernels'))
    for (const s of world.streams) {
      for (const c of s.chains) {
        const when = this.#whenProbability(c, kr)
        c.outcomes.forEach((o, j) => {
          const draws = new Float64Array(KERNEL_DRAWS)
          for (let k = 0; k < KERNEL_DRAWS; k++) {
            const d = o.delay(kr) * HOUR
            // A trigger falls anywhere in its bucket; sessions start on the slot grid.
            if (o.anchor === Anchor.trigger) draws[k] = kr.next() * this.#B + d
            else {
              const offset = o.anchorSpec!.offset
              draws[k] = offset === null ? d : offset(world, kr) + d
            }
          }
          const edge: Edge = {
            chain: c,
            j,
            to: o.stream,
            anchor: o.anchor,
            kernel: kernelOf(draws, this.#B),
            when,
          }
          if (o.stream === s.index) this.#self[s.index] = edge
          else this.#edges[s.index]!.push(edge)
        })
      }
    }
    this.#order = topoOrder(ns, this.#edges, world)
    const anchored = world.module.meanField?.anchored
    this.#anchored = anchored
    this.#requestStream =
      anchored === undefined ? -1 : world.streams.findIndex((s) => s.behavior === anchored.behavior)
    // How far (buckets) a change travels through the chains. Counts move counts
    // along trigger-anchored edges; the sessions' start series (S) moves the
    // outcomes anchored to a session's start or end; S itself comes from the
    // booking requests, one booking lead later.
    const slotLag = anchored ? Math.ceil(anchored.maxLeadMs(world) / this.#B) + 1 : 0
    const minLead = anchored ? Math.floor(anchored.minLeadMs(world) / this.#B) : 0
    const kmax = (e: Edge) => Math.max(0, e.kernel.min + e.kernel.w.length)
    const kback = (e: Edge) => (e.anchor === Anchor.trigger ? 0 : Math.max(0, -e.kernel.min))
    // lead-in: the longest lag from a root to any stream
    const lag = new Float64Array(ns)
    const lagS = new Float64Array(ns)
    for (const s of this.#order) {
      if (s === this.#requestStream) lagS[s] = lag[s]! + slotLag
      for (const e of this.#edges[s]!) {
        const from = e.anchor === Anchor.trigger ? lag[s]! : lagS[s]!
        lag[e.to] = Math.max(lag[e.to]!, from + kmax(e))
        lagS[e.to] = Math.max(lagS[e.to]!, lagS[s]!)
      }
    }
    this.#lag = Math.max(...lag)
    this.#tail = 1
    for (const es of this.#edges)
      for (const e of es) this.#tail = Math.max(this.#tail, kback(e) + 1)
    // reach of a change in a stream's counts (C) or in its session starts (S)
    const reachC = new Float64Array(ns)
    const reachS = new Float64Array(ns)
    const backC = new Float64Array(ns)
    const backS = new Float64Array(ns)
    for (let k = this.#order.length - 1; k >= 0; k--) {
      const s = this.#order[k]!
      for (const e of this.#edges[s]!) {
        if (e.anchor === Anchor.trigger) reachC[s] = Math.max(reachC[s]!, kmax(e) + reachC[e.to]!)
        else {
          reachS[s] = Math.max(reachS[s]!, kmax(e) + reachC[e.to]!)
          backS[s] = Math.max(backS[s]!, kback(e) + backC[e.to]!)
        }
        reachS[s] = Math.max(reachS[s]!, reachS[e.to]!)
        backS[s] = Math.max(backS[s]!, backS[e.to]!)
        backC[s] = Math.max(backC[s]!, backC[e.to]!)
      }
      if (s === this.#requestStream) {
        reachC[s] = Math.max(reachC[s]!, slotLag + reachS[s]!)
        backC[s] = Math.max(backC[s]!, backS[s]! - minLead)
      }
    }
    // a change to a stream as a chain outcome lands one inbound delay later (or earlier)
    const inFwd = new Float64Array(ns)
    const inBack = new Float64Array(ns)
    for (const es of this.#edges)
      for (const e of es) {
        inFwd[e.to] = Math.max(inFwd[e.to]!, kmax(e))
        inBack[e.to] = Math.max(inBack[e.to]!, kback(e))
      }
    this.#reachFwd = new Float64Array(ns)
    this.#reachBack = new Float64Array(ns)
    for (let s = 0; s < ns; s++) {
      this.#reachFwd[s] = Math.max(reachC[s]!, inFwd[s]! + reachC[s]!, reachS[s]!)
      this.#reachBack[s] = Math.max(backC[s]!, inBack[s]! + backC[s]!, backS[s]!)
    }
    this.leadIn = Math.ceil(this.#lag) + 8
  }

  /**
   * Variance-to-mean ratio of stream `s`'s counts: 1 for a Poisson stream; a stream
   * that answers itself (chat messages answering chat messages, continuing with
   * probability q) comes in conversations of geometric size, (1 + q) / (1 − q).
   */
  dispersion(s: number): number {
    const e = this.#self[s]
    if (!e) return 1
    const q = Math.min(0.99, e.chain.outcomes[e.j]!.probability * e.when)
    return (1 + q) / (1 - q)
  }

  /** Longest downstream delay in ms (how far a change spreads past its own window). */
  get maxLagMs(): number {
    return this.#lag * this.#B
  }

  /**
   * Generates the series with `mods` applied (the baseline's own external events
   * are modifications too). `onProgress(done, total)` is called per stream.
   */
  generate(
    mods: readonly HistoryModification[] = [],
    opts: {
      anomalies?: boolean
      onProgress?: (done: number, total: number) => void
      /** Index of the first modification of the caller's own (errors count from it; those before are the baseline's events). */
      ownFrom?: number
    } = {},
  ): GeneratedHistory {
    if (this.#B !== BUCKET_MS)
      throw new RangeError(
        `history: generate() needs the ${BUCKET_MS} ms resolution (this model computes at ${this.#B} ms)`,
      )
    const world = this.world
    const ns = world.streams.length
    const L = this.leadIn
    const M = L + this.n
    const t0 = this.from - L * this.#B
    const tEnd = this.start
    const timeline = buildTimeline(world, this.#rm, mods, t0, tEnd, opts.ownFrom ?? 0)
    const anomalies = opts.anomalies === false ? [] : this.#anomalies()
    const anomalyMult = new Map<number, Float64Array>()
    for (const a of anomalies) {
      const s = world.streamIndex.get(a.stream)!
      let m = anomalyMult.get(s)
      if (!m) anomalyMult.set(s, (m = new Float64Array(M).fill(1)))
      for (let i = (a.start - t0) / this.#B; i < (a.end - t0) / this.#B; i++) m[i]! *= a.change
    }
    const { count, mean } = this.#propagate(t0, M, tEnd, timeline, anomalyMult, true, (done) =>
      opts.onProgress?.(done, ns),
    )
    const series: HistorySeries = {
      world: world.id,
      seed: this.seed,
      start: this.start,
      from: this.from,
      bucketMs: BUCKET_MS,
      n: this.n,
      streams: world.streams.map((s) => s.name),
      measures: this.measures,
      count: count.map((a) => a.slice(L)),
      mean: mean.map((a) => a.slice(L)),
    }
    return { series, anomalies, timeline, window: this.#windowOf(timeline) }
  }

  /**
   * The mean field: the expected count (and mean primary value) of every stream in
   * each of `n` buckets of the model's resolution from `from` (a multiple of it), without
   * draws, anomalies or modifications: the seasonal baseline a live stream is
   * measured against. The process is taken to start empty at `coldFrom` (the live
   * engine's start: chain outcomes of earlier triggers do not exist), or to be in
   * its steady state when `coldFrom` is more than the lead-in before `from`.
   *
   * @example
   * const exp = model.expectedCounts(start, 96, start) // one day from a cold start
   * exp.count[world.streamIndex.get('session.completed')!][40] // sessions expected 10:00–10:15
   */
  expectedCounts(
    from: number,
    n: number,
    coldFrom = -Infinity,
  ): { count: Float64Array[]; mean: Float64Array[] } {
    const lead = Math.max(0, Math.min(this.leadIn, Math.floor((from - coldFrom) / this.#B)))
    const t0 = from - lead * this.#B
    const M = lead + n
    const timeline = buildTimeline(this.world, this.#rm, [], t0, t0 + M * this.#B, 0)
    const r = this.#propagate(t0, M, t0 + M * this.#B, timeline, new Map(), false)
    return { count: r.count.map((a) => a.slice(lead)), mean: r.mean.map((a) => a.slice(lead)) }
  }

  /**
   * Pushes expected counts through the chains over `M` buckets from `t0` (nothing
   * before `t0`): with `draw`, counts are Poisson draws around their expectation
   * and means are drawn around the baseline value; without, they are the
   * expectations themselves (the mean field).
   */
  #propagate(
    t0: number,
    M: number,
    tEnd: number,
    timeline: Timeline,
    anomalyMult: ReadonlyMap<number, Float64Array>,
    draw: boolean,
    onProgress?: (done: number) => void,
  ): { count: Float64Array[]; mean: Float64Array[] } {
    const world = this.world
    const segAt = segmentIndex(timeline.segments, t0, M, this.#B)
    // past the series end (session starts only): the parameters in effect at its end
    const segOf = (i: number) => timeline.segments[segAt[i < M ? i : M - 1]!]!
    const expected = world.streams.map(() => new Float64Array(M))
    const sessions: (Float64Array | null)[] = world.streams.map(() => null)
    const count = world.streams.map(() => new Float64Array(M))
    const mean = world.streams.map(() => new Float64Array(M))
    const rng = this.#rng
    const key = deriveKey(this.seed, 'history')
    let done = 0
    for (const s of this.#order) {
      const st = world.streams[s]!
      const lam = expected[s]!
      this.#addRoot(s, lam, t0, M, timeline.segments)
      // partial last bucket: only the part before the run start
      const lastFrac = (tEnd - (t0 + (M - 1) * this.#B)) / this.#B
      const self = this.#self[s]
      const am = anomalyMult.get(s)
      const isMean = this.measures[s] === 'mean'
      const c = count[s]!
      const mu = mean[s]!
      for (let i = 0; i < M; i++) {
        const p = timeline.segments[segAt[i]!]!.params[s]!
        let x = lam[i]!
        if (self) {
          const q = Math.min(0.99, this.#edgeProbability(self, timeline.segments[segAt[i]!]!))
          x /= 1 - q
        }
        if (am && !isMean) x *= am[i]!
        if (i === M - 1 && lastFrac < 1) x *= lastFrac
        rng.reseed(deriveKey(key, s, Math.floor((t0 + i * this.#B) / BUCKET_MS)))
        // periodic streams tick on their grid: the count is the number of ticks
        const k = !draw
          ? x
          : st.arrivalKind === ArrivalKind.periodic
            ? Math.round(x)
            : poisson(x, rng)
        c[i] = k
        if (k === 0) {
          mu[i] = NaN
          continue
        }
        let m = valueMean(st.baseline.mean, p)
        if (am && isMean) m *= am[i]!
        if (!draw) {
          mu[i] = m
          continue
        }
        const sd = st.baseline.sd * p.valueMult
        mu[i] = Math.round((m + (sd / Math.sqrt(k)) * rng.normal()) * 100) / 100
      }
      // Sessions requested in this stream's events: where their starts fall.
      if (s === this.#requestStream)
        sessions[s] = this.#anchored!.starts(this.world, this.#rm, c, t0, M + this.#tail, this.#B)
      // Push this stream's drawn counts along its chains.
      for (const e of this.#edges[s]!) {
        const into = expected[e.to]!
        if (e.anchor === Anchor.trigger) {
          const src = new Float64Array(M)
          for (let i = 0; i < M; i++) {
            if (c[i] === 0) continue
            src[i] = c[i]! * this.#edgeProbability(e, timeline.segments[segAt[i]!]!)
          }
          convolveInto(src, e.kernel, into)
        } else {
          const S = sessions[s]
          if (!S) continue
          const src = new Float64Array(S.length)
          for (let i = 0; i < S.length; i++)
            if (S[i] !== 0) src[i] = S[i]! * this.#edgeProbability(e, segOf(i))
          convolveInto(src, e.kernel, into)
        }
        // The sessions reaching the outcome stream, by start.
        const S = sessions[s]
        if (S) {
          const acc = (sessions[e.to] ??= new Float64Array(S.length))
          for (let i = 0; i < S.length; i++)
            if (S[i] !== 0) acc[i]! += S[i]! * this.#edgeProbability(e, segOf(i))
        }
      }
      onProgress?.(++done)
    }
    return { count, mean }
  }

  /** Where `mods` can change the series (see GeneratedHistory.window), without generating it. */
  affectedWindow(mods: readonly HistoryModification[]): GeneratedHistory['window'] {
    const t0 = this.from - this.leadIn * this.#B
    return this.#windowOf(buildTimeline(this.world, this.#rm, mods, t0, this.start))
  }

  #windowOf(timeline: Timeline): GeneratedHistory['window'] {
    if (!timeline.modified) return null
    let fwd = 0
    let back = 0
    const touched = new Set(timeline.streams)
    // a stream's rate also weighs it against the other outcomes of its chains
    for (const st of this.world.streams)
      for (const c of st.chains)
        if (c.outcomes.some((o) => touched.has(o.stream)))
          for (const o of c.outcomes) touched.add(o.stream)
    for (const s of touched) {
      fwd = Math.max(fwd, this.#reachFwd[s]! + 1)
      back = Math.max(back, this.#reachBack[s]! + 1)
    }
    const a = Math.max(
      this.from,
      Math.floor(timeline.modified.start / this.#B) * this.#B - back * this.#B,
    )
    const b = Math.min(
      this.start,
      Math.ceil(timeline.modified.end / this.#B) * this.#B + fwd * this.#B,
    )
    return a < b ? { start: a, end: b } : null
  }

  /** Expected counts of a root stream (configured rate, calendar, modifiers). */
  #addRoot(s: number, lam: Float64Array, t0: number, M: number, segs: readonly Segment[]): void {
    const st = this.world.streams[s]!
    const kind = st.arrivalKind
    if (kind === ArrivalKind.none) return
    let perMs = 0
    if (kind === ArrivalKind.poisson) perMs = st.perDay / DAY
    else if (kind === ArrivalKind.state) perMs = st.stateRate!.expected(this.world, st)
    let si = 0
    for (let i = 0; i < M; i++) {
      const b0 = t0 + i * this.#B
      const b1 = b0 + this.#B
      let base: number
      if (kind === ArrivalKind.periodic) {
        const o = this.#origin
        base = Math.floor((b1 - o) / st.everyMs) - Math.floor((b0 - o) / st.everyMs)
      } else base = perMs * this.#rm.factor(st.profile, Math.floor(b0 / HOUR)) * this.#B
      while (si + 1 < segs.length && segs[si + 1]!.t <= b0) si++
      // time-weighted over the segments that overlap the bucket
      let x = 0
      for (let k = si; k < segs.length && segs[k]!.t < b1; k++) {
        const a = Math.max(b0, segs[k]!.t)
        const b = k + 1 < segs.length ? Math.min(b1, segs[k + 1]!.t) : b1
        if (b <= a) continue
        x += ((b - a) / this.#B) * modifiedRate(base, segs[k]!.params[s]!, kind, this.#B)
      }
      lam[i]! += x
    }
  }

  /** Probability that edge `e` fires for one trigger event under the segment's parameters. */
  #edgeProbability(e: Edge, seg: Segment): number {
    const c = e.chain
    const P = seg.chainP === null ? undefined : seg.chainP.get(c)
    const params = seg.params
    let sum = 0
    let wj = 0
    for (let i = 0; i < c.outcomes.length; i++) {
      const o = c.outcomes[i]!
      const w = (P === undefined ? o.probability : P[i]!) * rateMultOf(params[o.stream]!)
      sum += w
      if (i === e.j) wj = w
    }
    let p: number
    if (c.oneOf) p = sum > 0 ? wj / (c.complete || sum > 1 ? sum : 1) : 0
    else p = Math.min(1, wj)
    return p * e.when
  }

  /** P(the chain's `when` holds) for one trigger event. */
  #whenProbability(c: WorldChain, rng: Rng): number {
    const w = c.when
    if (w === undefined) return 1
    const trig = this.world.streams[c.trigger]!
    const test = (x: unknown): boolean =>
      (w.eq === undefined || x === w.eq) &&
      (w.lte === undefined || (typeof x === 'number' && x <= w.lte)) &&
      (w.gte === undefined || (typeof x === 'number' && x >= w.gte))
    let sampler: ((r: Rng) => unknown) | undefined
    if (w.field === trig.valueField) sampler = trig.valueSampler
    else sampler = trig.fields.find((f) => f.name === w.field)?.sample
    if (sampler) {
      let hit = 0
      for (let k = 0; k < KERNEL_DRAWS; k++) if (test(sampler(rng))) hit++
      return hit / KERNEL_DRAWS
    }
    const share = this.world.module.meanField?.fieldShare?.(this.world, w.field, w.eq)
    if (share !== undefined) return share
    return 1 // a field only the behaviour sets: taken as always true
  }

  /** The baseline's small anomalies: each stream's 12 h intervals, independently. */
  #anomalies(): BaselineAnomaly[] {
    const out: BaselineAnomaly[] = []
    const half = 12 * HOUR
    const per = half / this.#B
    const r = new Rng(0)
    for (const s of this.world.streams) {
      for (let t = this.from; t + half <= this.start; t += half) {
        r.reseed(deriveKey(this.seed, 'history', 'anomaly', s.name, t / half))
        if (r.next() >= ANOMALY_SHARE) continue
        const len = 4 + r.int(21) // 1–6 h
        const at = t + r.int(per - len + 1) * this.#B
        const size = r.uniform(0.15, 0.35)
        const change = r.next() < 0.7 ? 1 + size : 1 - size
        out.push({
          stream: s.name,
          start: at,
          end: at + len * this.#B,
          change: Math.round(change * 1000) / 1000,
        })
      }
    }
    return out
  }
}

function rateMultOf(p: StreamParams): number {
  return p.rateMult
}

function modifiedRate(base: number, p: StreamParams, kind: number, B: number): number {
  if (kind === ArrivalKind.periodic) return p.rateMult > 0 ? base : 0
  if (p.rateAdd === 0 && Number.isNaN(p.rateOverride)) return base * p.rateMult
  const perBucket = (x: number): number => (x / HOUR) * B
  const r =
    (Number.isNaN(p.rateOverride) ? base : perBucket(p.rateOverride)) * p.rateMult +
    perBucket(p.rateAdd)
  return r > 0 ? r : 0
}

function valueMean(mean: number, p: StreamParams): number {
  return (Number.isNaN(p.valueOverride) ? mean : p.valueOverride) * p.valueMult + p.valueAdd
}

/** For each of `M` buckets from `t0`, the index of the segment in effect at its middle. */
function segmentIndex(segs: readonly Segment[], t0: number, M: number, B: number): Int32Array {
  const out = new Int32Array(M)
  let k = 0
  for (let i = 0; i < M; i++) {
    const t = t0 + (i + 0.5) * B
    while (k + 1 < segs.length && segs[k + 1]!.t <= t) k++
    out[i] = k
  }
  return out
}

function kernelOf(draws: Float64Array, B: number): Kernel {
  let lo = Infinity
  let hi = -Infinity
  const off = new Int32Array(draws.length)
  for (let k = 0; k < draws.length; k++) {
    const o = Math.floor(draws[k]! / B)
    off[k] = o
    if (o < lo) lo = o
    if (o > hi) hi = o
  }
  const w = new Float64Array(hi - lo + 1)
  for (let k = 0; k < off.length; k++) w[off[k]! - lo]! += 1 / draws.length
  return { min: lo, w }
}

function convolveInto(src: Float64Array, k: Kernel, into: Float64Array): void {
  const M = into.length
  const w = k.w
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!
    if (x === 0) continue
    const base = i + k.min
    const a = Math.max(0, -base)
    const b = Math.min(w.length, M - base)
    for (let j = a; j < b; j++) into[base + j]! += x * w[j]!
  }
}

/** Streams in an order where every chain trigger comes before its outcomes (self-loops aside). */
function topoOrder(ns: number, edges: readonly Edge[][], world: World): number[] {
  const indeg = new Int32Array(ns)
  for (const es of edges) for (const e of es) indeg[e.to]!++
  const out: number[] = []
  const ready: number[] = []
  for (let s = 0; s < ns; s++) if (indeg[s] === 0) ready.push(s)
  while (ready.length > 0) {
    ready.sort((a, b) => a - b)
    const s = ready.shift()!
    out.push(s)
    for (const e of edges[s]!) if (--indeg[e.to]! === 0) ready.push(e.to)
  }
  if (out.length < ns) {
    const stuck = world.streams.filter((_, s) => indeg[s]! > 0).map((s) => s.name)
    throw new Error(
      `history: the relationship chains of world ${world.id} form a cycle through ${stuck.join(', ')}; only a stream triggering itself is supported`,
    )
  }
  return out
}

/** Poisson draw: inversion below 30, normal approximation above (continuity-corrected). */
export function poisson(lambda: number, rng: Rng): number {
  if (!(lambda > 0)) return 0
  if (lambda < 30) {
    const L = Math.exp(-lambda)
    let k = 0
    let p = L
    let cdf = L
    const u = rng.next()
    while (u > cdf && k < 200) {
      k++
      p *= lambda / k
      cdf += p
    }
    return k
  }
  const x = Math.round(lambda + Math.sqrt(lambda) * rng.normal())
  return x > 0 ? x : 0
}
