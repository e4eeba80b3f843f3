/**
 * The modifier timeline of a stretch of history: the same ScenarioController the
 * live engine uses (scenarios with their cascades and settlement curve, external
 * events with their impact windows, red herrings that change nothing), driven
 * over simulated time without generating events. What it records is the
 * per-stream parameters in effect from each breakpoint on, which the history
 * model applies bucket by bucket.
 */
import { SimError, SimErrorCode } from '../errors.js'
import type { ExternalEvent, ExternalEventInput } from '../external.js'
import { neutralParams, type StreamParams } from '../modifiers.js'
import type { RateModel } from '../rates.js'
import { ScenarioController } from '../scenarios/index.js'
import type { ChainObserver, SimPort, StreamCounters } from '../correlations.js'
import { DAY } from '../calendar.js'
import { ArrivalKind, type World, type WorldChain } from '../world/types.js'

/** A change applied to history: a past external event, or a scenario run from `start`. */
export type HistoryModification =
  | {
      kind: 'event'
      /** The injection as `POST /api/events/external` takes it (template id or full event), with its timestamp. */
      event: ExternalEventInput
      /** Id of the event in the live engine, when it was injected there too. */
      eventId?: string
    }
  | {
      kind: 'scenario'
      scenarioId: string
      /** When the scenario is activated (epoch ms). */
      start: number
      /** Stopped early here (it then settles); default: it runs its full duration. */
      stop?: number
    }

/** Parameters in effect from `t` until the next segment. */
export interface Segment {
  t: number
  params: readonly StreamParams[]
  chainP: Map<WorldChain, Float64Array> | null
  /** No modifier at all. */
  neutral: boolean
}

export interface Timeline {
  /** Sorted by `t`; the first starts at −∞ (neutral). */
  segments: Segment[]
  /** External events the modifications produced (injected, and those scenarios inject). */
  events: ExternalEvent[]
  /** First and last instant any parameter differs from the baseline; null when none does. */
  modified: { start: number; end: number } | null
  /** Streams whose rate, value or outcome probability some segment changes. */
  streams: number[]
}

const ZERO: StreamCounters = {
  arrivals: 0,
  picks: 0,
  emitted: 0,
  valueSum: 0,
  rawSum: 0,
  rawSq: 0,
  valueN: 0,
}

/** A SimPort that only records parameter changes (correlation tracking sees no events). */
class TimelinePort implements SimPort {
  now: number
  readonly segments: Segment[]
  constructor(
    readonly world: World,
    readonly rm: RateModel,
    from: number,
  ) {
    this.now = from
    const neutral = world.streams.map(() => neutralParams())
    this.segments = [{ t: -Infinity, params: neutral, chainP: null, neutral: true }]
  }
  applyParams(params: readonly StreamParams[], chainP: Map<WorldChain, Float64Array> | null): void {
    const seg: Segment = {
      t: this.now,
      params: params.map((p) => ({ ...p, causes: [...p.causes] })),
      chainP,
      neutral: chainP === null && params.every(isNeutral),
    }
    const last = this.segments[this.segments.length - 1]!
    if (last.t === this.now) this.segments[this.segments.length - 1] = seg
    else this.segments.push(seg)
  }
  baseRate(s: number, h: number): number {
    const st = this.world.streams[s]!
    if (st.arrivalKind === ArrivalKind.poisson)
      return (st.perDay / DAY) * this.rm.factor(st.profile, h)
    if (st.arrivalKind === ArrivalKind.state)
      return st.stateRate!.expected(this.world, st) * this.rm.factor(st.profile, h)
    return 0
  }
  counters(): StreamCounters {
    return ZERO
  }
  trackValues(): void {}
  observeChains(_fn: ChainObserver | null): void {}
}

function isNeutral(p: StreamParams): boolean {
  return (
    p.rateMult === 1 &&
    Number.isNaN(p.rateOverride) &&
    p.rateAdd === 0 &&
    p.valueMult === 1 &&
    Number.isNaN(p.valueOverride) &&
    p.valueAdd === 0 &&
    p.probMult === 1 &&
    Number.isNaN(p.probOverride) &&
    p.probAdd === 0
  )
}

/**
 * Runs `mods` through a ScenarioController from `from` to `to` and returns the
 * parameter segments. Throws `VS_SIM_BAD_ARGUMENT` (naming the modification) for
 * an unknown scenario, a bad event, or two scenarios that overlap.
 */
export function buildTimeline(
  world: World,
  rm: RateModel,
  mods: readonly HistoryModification[],
  from: number,
  to: number,
  /** Index of the first modification the caller made (those before are the baseline's own events). */
  ownFrom = 0,
): Timeline {
  const label = (i: number): string =>
    i >= ownFrom ? `history modification ${i - ownFrom}` : `baseline event ${i + 1}`
  const port = new TimelinePort(world, rm, from)
  const ctl = new ScenarioController(port)
  const events: ExternalEvent[] = []
  // Events are injected up front (as future events: their windows become breakpoints).
  mods.forEach((m, i) => {
    if (m.kind !== 'event') return
    try {
      events.push(ctl.inject(m.event))
    } catch (err) {
      throw new SimError(SimErrorCode.badArgument, `${label(i)} (event): ${(err as Error).message}`)
    }
  })
  const acts = mods
    .map((m, i) => ({ m, i }))
    .filter(
      (x): x is { m: Extract<HistoryModification, { kind: 'scenario' }>; i: number } =>
        x.m.kind === 'scenario',
    )
    .sort((a, b) => a.m.start - b.m.start || a.i - b.i)
  const stops = acts.filter((a) => a.m.stop !== undefined).map((a) => ({ ...a, at: a.m.stop! }))
  let ai = 0
  const out: never[] = []
  for (let guard = 0; guard < 1_000_000; guard++) {
    const now = port.now
    const st = ctl.status()
    const tr = st?.nextTransition ?? null
    const nextAct = ai < acts.length ? acts[ai]!.m.start : Infinity
    const nextStop = stops.find((s) => s.at > now || (s.at === now && st?.status === 'active'))
    let next = Math.min(
      ctl.nextBreakpoint(now),
      nextAct,
      tr ? tr.at : Infinity,
      nextStop?.at ?? Infinity,
    )
    if (next < now) next = now
    if (next > to) break
    port.now = next
    ctl.breakpoint(next, out)
    if (tr && tr.at <= next) ctl.transition(st!.runId, tr.to)
    if (nextStop && nextStop.at <= next && ctl.status()?.status === 'active') ctl.stop()
    while (ai < acts.length && acts[ai]!.m.start <= next) {
      const { m, i } = acts[ai++]!
      try {
        const a = ctl.activate(m.scenarioId)
        for (const e of a.events) events.push(e)
      } catch (err) {
        throw new SimError(
          SimErrorCode.badArgument,
          `${label(i)} (scenario ${m.scenarioId} at ${new Date(m.start).toISOString()}): ${(err as Error).message}`,
        )
      }
    }
  }
  const segs = port.segments
  let modified: Timeline['modified'] = null
  for (let i = 0; i < segs.length; i++) {
    if (segs[i]!.neutral) continue
    const start = segs[i]!.t
    const end = i + 1 < segs.length ? segs[i + 1]!.t : to
    modified = modified
      ? { start: Math.min(modified.start, start), end: Math.max(modified.end, end) }
      : { start, end }
  }
  const touched = new Set<number>()
  for (const seg of segs) {
    if (seg.neutral) continue
    seg.params.forEach((p, s) => {
      if (!isNeutral(p)) touched.add(s)
    })
    if (seg.chainP)
      for (const c of seg.chainP.keys()) for (const o of c.outcomes) touched.add(o.stream)
  }
  return { segments: segs, events, modified, streams: [...touched].sort((a, b) => a - b) }
}
