/**
 * Event–stream correlation tracking: for every external event and every stream its
 * expected impact names, did the stream move as expected during the impact window,
 * and how strongly — measured against the same-seed counterfactual "this run,
 * without this event's modifiers".
 *
 * Method (deterministic: it only reads the engine's counters and model):
 *
 * - Counts. For each stream the engine counts *decisions*: arrivals (for streams
 *   with an arrival of their own) and picks (each time a chain chooses the stream as
 *   its outcome). Over the measured window the tracker accumulates, from the model,
 *   the expected number of decisions without the event:
 *   - arrivals: ∫ λ_cf(t) dt, λ_cf being the stream's rate (baseline × time patterns
 *     × every other modifier in effect; exact, rates are constant per UTC hour and
 *     between breakpoints);
 *   - picks: Σ over the firings of every chain that can pick the stream of its
 *     probability without the event (computed at each firing from the same supply
 *     state), with variance Σ p(1 − p).
 *   `change` = observed / expected, z = (observed − expected) / √variance (Poisson
 *   for arrivals, Bernoulli for picks). Upstream decisions are the ones that really
 *   happened, so this measures the event's direct effect on the stream, not effects
 *   that reach it through other streams (those have their own expected streams).
 * - Values (streams the event changes only in value). The engine keeps, for tracked
 *   streams, the sums of the drawn (pre-modifier) value; the counterfactual sum
 *   applies every modifier but the event's to the same draws, so `change` is the ratio
 *   of means and z the difference in units of the draws' standard error.
 *
 * Strength ∈ [0, 1] = confidence × attainment: confidence = erf(s / √2) for s = z in
 * the expected direction (0 when the stream did not move that way), attainment =
 * |ln change| / |ln expected change| capped at 1 (expected change: what the event's
 * modifiers imply, or for a red herring what its magnitude label implies: low 1.1,
 * medium 1.3, high 1.6). `matched` = s ≥ 3 and attainment ≥ 0.5. A red herring has no
 * modifiers, so its counterfactual is the run itself: it does not match, except by
 * chance (≈ 0.1 % per stream).
 *
 * The window measured is the impact window from the injection on (the part of a
 * past event's window before its injection was generated without it).
 */
import { HOUR } from './calendar.js'
import type { ActualImpact, EventRecord } from './external.js'
import { MAGNITUDE_CHANGE } from './external.js'
import {
  chainProbabilities,
  composeParams,
  streamFacts,
  type ModifierEntry,
  type StreamFacts,
  type StreamParams,
} from './modifiers.js'
import { ArrivalKind, type World, type WorldChain } from './world/types.js'

/** Cumulative counters the engine keeps per stream. */
export interface StreamCounters {
  /** Arrivals of the stream itself: its arrival process's decisions, including those its behaviour skipped. */
  arrivals: number
  /** Times a chain chose the stream as its outcome (at the chain's firing). */
  picks: number
  /** Events emitted (all sources). */
  emitted: number
  /** While tracked: sum of emitted primary values, of their drawn (pre-modifier) values and of their squares. */
  valueSum: number
  rawSum: number
  rawSq: number
  /** Events counted in the value sums. */
  valueN: number
}

/** Called at every chain firing while observed: the weights used (`w`) and the supply factors (`sup`) per outcome. */
export type ChainObserver = (c: WorldChain, w: Float64Array, sup: Float64Array) => void

/** What the scenario controller and the tracker need from the engine. */
export interface SimPort {
  readonly world: World
  readonly now: number
  applyParams(params: readonly StreamParams[], chainP: Map<WorldChain, Float64Array> | null): void
  /** Unmodified arrival rate of stream `s` during UTC hour `h`, per ms. */
  baseRate(s: number, h: number): number
  counters(s: number): StreamCounters
  /** Value sums are kept only for tracked streams. */
  trackValues(s: number, on: boolean): void
  observeChains(fn: ChainObserver | null): void
}

export type CorrelationQuery = { stream: string } | { event: string }

export interface CorrelationResult {
  event: string
  stream: string
  eventTitle: string
  redHerring: boolean
  /** `count`: decisions (arrivals + chain picks); `value`: the primary value. */
  measure: 'count' | 'value'
  window: { start: number; end: number }
  /** The part measured so far (null before it starts). */
  measured: { from: number; to: number } | null
  expected: ActualImpact['expected']
  actual: ActualImpact['actual'] & { observed: number; counterfactual: number; z: number }
  status: ActualImpact['status']
}

export interface CorrelationAnswer {
  query: CorrelationQuery
  results: CorrelationResult[]
}

interface Track {
  readonly rec: EventRecord
  readonly s: number
  readonly kind: 'count' | 'value'
  state: 'pending' | 'open' | 'closed' | 'unmeasurable'
  from: number
  to: number
  c0: StreamCounters | null
  c1: StreamCounters | null
  // count: expected decisions with every modifier (model), without the event, and the variance without it
  expAll: number
  expCf: number
  varCf: number
  // value: counterfactual and model sums
  vCf: number
  vAll: number
  // current segment
  segStart: number
  segC0: StreamCounters | null
  all: StreamParams | null
  cf: StreamParams | null
  /** Per chain that can pick the stream: the outcome positions and the weights without the event, before supply. */
  chains: { c: WorldChain; idx: number[]; baseAll: Float64Array; baseCf: Float64Array }[]
}

const Z_MATCH = 3

export class CorrelationTracker {
  readonly #port: SimPort
  readonly #facts: readonly StreamFacts[]
  readonly #tracks = new Map<EventRecord, Track[]>()
  readonly #valueRefs: number[]
  #byChain = new Map<WorldChain, { tr: Track; ch: Track['chains'][number] }[]>()

  constructor(port: SimPort) {
    this.#port = port
    this.#facts = streamFacts(port.world)
    this.#valueRefs = port.world.streams.map(() => 0)
  }

  /** Engine snapshots: the tracks (keyed by their event records) and the chains they watch. */
  saveState(): Record<string, unknown> {
    return { tracks: this.#tracks, valueRefs: this.#valueRefs, byChain: this.#byChain }
  }

  /**
   * Restores {@link saveState}'s data (decoded in the same pass as the
   * controller's event records, so the keys are those records) and watches the
   * chains again. The streams' value tracking is part of the engine's own state.
   */
  loadState(data: Record<string, unknown>): void {
    const d = data as {
      tracks: Map<EventRecord, Track[]>
      valueRefs: number[]
      byChain: Map<WorldChain, { tr: Track; ch: Track['chains'][number] }[]>
    }
    this.#tracks.clear()
    for (const [rec, ts] of d.tracks) this.#tracks.set(rec, ts)
    this.#valueRefs.splice(0, this.#valueRefs.length, ...d.valueRefs)
    this.#byChain = d.byChain
    this.#port.observeChains(this.#byChain.size > 0 ? (c, _w, sup) => this.#onFire(c, sup) : null)
  }

  clear(): void {
    for (const ts of this.#tracks.values())
      for (const t of ts) if (t.state === 'open') this.#release(t)
    this.#tracks.clear()
    this.#byChain = new Map()
    this.#port.observeChains(null)
  }

  drop(rec: EventRecord): void {
    const ts = this.#tracks.get(rec)
    if (!ts) return
    for (const t of ts) if (t.state === 'open') this.#release(t)
    this.#tracks.delete(rec)
  }

  /**
   * The modifiers change at `t` (or an event was added): close the running segment
   * with the old parameters, open/close the tracks whose windows start/end at `t`,
   * and start the next segment with the new parameters.
   */
  change(
    t: number,
    entries: readonly ModifierEntry[],
    params: readonly StreamParams[],
    chainP: Map<WorldChain, Float64Array> | null,
    events: readonly EventRecord[],
  ): void {
    for (const ts of this.#tracks.values())
      for (const tr of ts) if (tr.state === 'open') this.#closeSegment(tr, t)
    const world = this.#port.world
    let observed = false
    for (const rec of events) {
      if (rec.cancelled) continue
      let ts = this.#tracks.get(rec)
      if (!ts) {
        ts = rec.tracked.map((s) => this.#newTrack(rec, s))
        this.#tracks.set(rec, ts)
      }
      const e = rec.event
      const from = Math.max(e.window.start, e.injectedAt)
      const end = e.window.end
      let cf: {
        params: readonly StreamParams[]
        chainP: Map<WorldChain, Float64Array> | null
      } | null = null
      for (const tr of ts) {
        if (tr.state === 'pending') {
          if (end <= from || t >= end) {
            tr.state = 'unmeasurable'
            continue
          }
          if (t >= from) {
            tr.state = 'open'
            tr.from = t
            tr.c0 = this.#port.counters(tr.s)
            if (tr.kind === 'value') this.#hold(tr)
          }
        } else if (tr.state === 'open' && t >= end) {
          tr.state = 'closed'
          tr.to = t
          tr.c1 = this.#port.counters(tr.s)
          this.#release(tr)
        }
        if (tr.state !== 'open') continue
        if (cf === null) {
          const own = `external:${e.id}`
          const rest = entries.filter((x) => x.source !== own)
          cf =
            rest.length === entries.length
              ? { params, chainP }
              : (() => {
                  const p = composeParams(world, rest)
                  return { params: p, chainP: chainProbabilities(world, p) }
                })()
        }
        tr.segStart = t
        tr.segC0 = this.#port.counters(tr.s)
        tr.all = params[tr.s]!
        tr.cf = cf.params[tr.s]!
        tr.chains = []
        if (tr.kind === 'count') {
          for (const o of this.#facts[tr.s]!.outcomeOf) {
            let entry = tr.chains.find((x) => x.c === o.chain)
            if (!entry) {
              const base = (
                pm: readonly StreamParams[],
                cp: Map<WorldChain, Float64Array> | null,
              ): Float64Array => {
                const P = cp?.get(o.chain)
                return Float64Array.from(
                  o.chain.outcomes,
                  (x, j) => (P ? P[j]! : x.probability) * pm[x.stream]!.rateMult,
                )
              }
              entry = {
                c: o.chain,
                idx: [],
                baseAll: base(params, chainP),
                baseCf: base(cf.params, cf.chainP),
              }
              tr.chains.push(entry)
            }
            entry.idx.push(o.index)
            observed = true
          }
        }
      }
    }
    // chain firings are dispatched to the open tracks that watch the chain
    this.#byChain = new Map()
    for (const ts of this.#tracks.values()) {
      for (const tr of ts) {
        if (tr.state !== 'open') continue
        for (const ch of tr.chains) {
          let list = this.#byChain.get(ch.c)
          if (!list) this.#byChain.set(ch.c, (list = []))
          list.push({ tr, ch })
        }
      }
    }
    this.#port.observeChains(observed ? (c, _w, sup) => this.#onFire(c, sup) : null)
  }

  /** Results for one event (all its expected streams). */
  forEvent(rec: EventRecord): CorrelationResult[] {
    const ts = this.#tracks.get(rec) ?? rec.tracked.map((s) => this.#newTrack(rec, s))
    return ts.map((tr) => this.#result(tr))
  }

  impacts(rec: EventRecord): ActualImpact[] {
    return this.forEvent(rec).map((r) => ({
      stream: r.stream,
      expected: r.expected,
      actual: {
        direction: r.actual.direction,
        change: r.actual.change,
        strength: r.actual.strength,
        matched: r.actual.matched,
      },
      status: r.status,
    }))
  }

  // --- internals ------------------------------------------------------------

  #newTrack(rec: EventRecord, s: number): Track {
    const mods = rec.mods.filter((m) => m.streams.includes(s))
    const kind = mods.length > 0 && mods.every((m) => m.target === 'value') ? 'value' : 'count'
    return {
      rec,
      s,
      kind,
      state: 'pending',
      from: NaN,
      to: NaN,
      c0: null,
      c1: null,
      expAll: 0,
      expCf: 0,
      varCf: 0,
      vCf: 0,
      vAll: 0,
      segStart: NaN,
      segC0: null,
      all: null,
      cf: null,
      chains: [],
    }
  }

  #hold(tr: Track): void {
    if (this.#valueRefs[tr.s]!++ === 0) this.#port.trackValues(tr.s, true)
    tr.c0 = this.#port.counters(tr.s)
  }

  #release(tr: Track): void {
    if (tr.kind !== 'value') return
    if (--this.#valueRefs[tr.s]! === 0) this.#port.trackValues(tr.s, false)
  }

  #onFire(c: WorldChain, sup: Float64Array): void {
    const list = this.#byChain.get(c)
    if (list === undefined) return
    const n = c.outcomes.length
    for (const { tr, ch } of list) {
      let sumAll = 0
      let sumCf = 0
      for (let j = 0; j < n; j++) {
        sumAll += ch.baseAll[j]! * sup[j]!
        sumCf += ch.baseCf[j]! * sup[j]!
      }
      const normAll = c.oneOf ? (c.complete || sumAll > 1 ? sumAll : 1) : 1
      const normCf = c.oneOf ? (c.complete || sumCf > 1 ? sumCf : 1) : 1
      for (const i of ch.idx) {
        const pa = normAll > 0 ? Math.min(1, (ch.baseAll[i]! * sup[i]!) / normAll) : 0
        const pc = normCf > 0 ? Math.min(1, (ch.baseCf[i]! * sup[i]!) / normCf) : 0
        tr.expAll += pa
        tr.expCf += pc
        tr.varCf += pc * (1 - pc)
      }
    }
  }

  /** Adds the segment [segStart, t] of an open track (arrival integrals, value sums). */
  #closeSegment(tr: Track, t: number): void {
    const inc = this.#segment(tr, t)
    tr.expAll += inc.expAll
    tr.expCf += inc.expCf
    tr.varCf += inc.varCf
    tr.vAll += inc.vAll
    tr.vCf += inc.vCf
    tr.segStart = t
    tr.segC0 = this.#port.counters(tr.s)
  }

  #segment(
    tr: Track,
    t: number,
  ): { expAll: number; expCf: number; varCf: number; vAll: number; vCf: number } {
    const z = { expAll: 0, expCf: 0, varCf: 0, vAll: 0, vCf: 0 }
    const a = tr.segStart
    if (!(t > a) || tr.all === null || tr.cf === null) return z
    const f = this.#facts[tr.s]!
    if (tr.kind === 'count') {
      if (f.arrivalKind === ArrivalKind.poisson || f.arrivalKind === ArrivalKind.state) {
        z.expAll = this.#integral(tr.s, tr.all, a, t)
        z.expCf = this.#integral(tr.s, tr.cf, a, t)
        z.varCf = z.expCf
      } else if (f.arrivalKind === ArrivalKind.periodic) {
        const st = this.#port.world.streams[tr.s]!
        const ticks = (t - a) / st.everyMs
        z.expAll = tr.all.rateMult > 0 ? ticks : 0
        z.expCf = tr.cf.rateMult > 0 ? ticks : 0
        z.varCf = 0
      }
    } else if (tr.segC0 !== null) {
      const now = this.#port.counters(tr.s)
      const n = now.valueN - tr.segC0.valueN
      const raw = now.rawSum - tr.segC0.rawSum
      const sum = (p: StreamParams): number =>
        Number.isNaN(p.valueOverride)
          ? raw * p.valueMult + n * p.valueAdd
          : n * (p.valueOverride * p.valueMult + p.valueAdd)
      z.vAll = sum(tr.all)
      z.vCf = sum(tr.cf)
    }
    return z
  }

  /** ∫ rate over [a, b] under `p` (events), the base rate constant per UTC hour. */
  #integral(s: number, p: StreamParams, a: number, b: number): number {
    const perMsAdd = p.rateAdd / HOUR
    const ov = Number.isNaN(p.rateOverride) ? NaN : p.rateOverride / HOUR
    let acc = 0
    let t = a
    while (t < b) {
      const h = Math.floor(t / HOUR)
      const end = Math.min(b, (h + 1) * HOUR)
      let r = (Number.isNaN(ov) ? this.#port.baseRate(s, h) : ov) * p.rateMult + perMsAdd
      if (r < 0) r = 0
      acc += r * (end - t)
      t = end
    }
    return acc
  }

  #result(tr: Track): CorrelationResult {
    const e = tr.rec.event
    const name = this.#port.world.streams[tr.s]!.name
    const declared = e.expectedImpact.direction
    const magnitude = e.expectedImpact.magnitude
    const now = this.#port.now
    let expAll = tr.expAll
    let expCf = tr.expCf
    let varCf = tr.varCf
    let vAll = tr.vAll
    let vCf = tr.vCf
    let c1 = tr.c1
    let to = tr.to
    if (tr.state === 'open') {
      const inc = this.#segment(tr, now)
      expAll += inc.expAll
      expCf += inc.expCf
      varCf += inc.varCf
      vAll += inc.vAll
      vCf += inc.vCf
      c1 = this.#port.counters(tr.s)
      to = now
    }
    let status: CorrelationResult['status'] =
      tr.state === 'pending'
        ? 'pending'
        : tr.state === 'open'
          ? 'measuring'
          : tr.state === 'closed'
            ? 'measured'
            : 'unmeasurable'
    // expected change: the model's, or the magnitude label's for an event that changes nothing here
    let model = 1
    if (tr.kind === 'count' ? expCf > 0 : vCf !== 0)
      model = tr.kind === 'count' ? expAll / expCf : vAll / vCf
    const hasOwn = !e.redHerring && tr.rec.mods.some((m) => m.streams.includes(tr.s))
    const label = MAGNITUDE_CHANGE[magnitude]
    const expectedChange =
      hasOwn && Math.abs(Math.log(model)) > 1e-9
        ? model
        : declared === 'decrease'
          ? 1 / label
          : label
    const dir =
      hasOwn && Math.abs(Math.log(model)) > 1e-9
        ? Math.sign(model - 1)
        : declared === 'increase'
          ? 1
          : declared === 'decrease'
            ? -1
            : 0
    const expected = {
      direction: dir > 0 ? ('increase' as const) : dir < 0 ? ('decrease' as const) : declared,
      magnitude,
      change: round(expectedChange, 4),
    }
    let observed = 0
    let counterfactual = 0
    let z = 0
    let change = 1
    if (c1 !== null && tr.c0 !== null && (tr.state === 'open' || tr.state === 'closed')) {
      if (tr.kind === 'count') {
        observed = c1.arrivals - tr.c0.arrivals + (c1.picks - tr.c0.picks)
        counterfactual = expCf
        z = (observed - expCf) / Math.sqrt(Math.max(varCf, 1))
        if (expCf > 0) change = observed / expCf
        else {
          // nothing was expected without the event (a silenced stream): no ratio to report
          z = 0
          status = 'unmeasurable'
        }
      } else {
        const n = c1.valueN - tr.c0.valueN
        const sum = c1.valueSum - tr.c0.valueSum
        const raw = c1.rawSum - tr.c0.rawSum
        const sq = c1.rawSq - tr.c0.rawSq
        observed = n > 0 ? sum / n : 0
        counterfactual = n > 0 ? vCf / n : 0
        const mean = n > 0 ? raw / n : 0
        const sd = n > 1 ? Math.sqrt(Math.max(0, (sq - n * mean * mean) / (n - 1))) : 0
        const scale = vCf !== 0 && raw !== 0 ? Math.abs(vCf / raw) : 1
        const se = (sd * scale) / Math.sqrt(Math.max(n, 1))
        z =
          n > 0
            ? (observed - counterfactual) /
              Math.max(se, 1e-9 * Math.max(1, Math.abs(counterfactual)))
            : 0
        change = counterfactual !== 0 ? observed / counterfactual : 1
      }
    }
    const s = dir !== 0 ? dir * z : Math.abs(z)
    const confidence = s > 0 ? erf(s / Math.SQRT2) : 0
    const lnObs = Math.log(change)
    const lnExp = Math.log(expectedChange)
    const agrees = dir !== 0 ? Math.sign(lnObs) === dir : lnObs !== 0
    const attainment =
      agrees && Number.isFinite(lnObs) && lnExp !== 0
        ? Math.min(1, Math.abs(lnObs) / Math.abs(lnExp))
        : agrees && !Number.isFinite(lnObs)
          ? 1
          : 0
    const moved = Math.abs(z) >= Z_MATCH
    return {
      event: e.id,
      stream: name,
      eventTitle: e.title,
      redHerring: e.redHerring,
      measure: tr.kind,
      window: { ...e.window },
      measured: tr.state === 'open' || tr.state === 'closed' ? { from: tr.from, to } : null,
      expected,
      actual: {
        direction: moved ? (z > 0 ? 'increase' : 'decrease') : 'none',
        change: round(change, 4),
        strength: round(confidence * attainment, 4),
        matched: s >= Z_MATCH && attainment >= 0.5,
        observed: round(observed, 4),
        counterfactual: round(counterfactual, 4),
        z: round(z, 3),
      },
      status,
    }
  }
}

function round(x: number, d: number): number {
  const k = 10 ** d
  return Math.round(x * k) / k
}

/** Error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1
  const ax = Math.abs(x)
  const t = 1 / (1 + 0.3275911 * ax)
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-ax * ax)
  return sign * y
}
