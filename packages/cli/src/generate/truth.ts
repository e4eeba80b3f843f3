/**
 * The ground truth of a generated run, written beside the events so a detector
 * can be scored offline: every scenario run (its phases and causes), every
 * external event (red herrings included, with their windows), every world
 * action, and for each cause the streams it shaped — how many events carry it,
 * when, and whether it moved the stream's rate (the observed count over its
 * span against the baseline's expected count, by the stream's own signal rule).
 */
import { rateZ } from '@verisim/schema'
import {
  ExpectedRates,
  type Engine,
  type ExternalEvent,
  type ScenarioActivation,
  type SimEvent,
  type World,
} from '@verisim/sim'
import type { GeneratePlan, TimedCommand } from './plan.js'

const BUCKET = 15 * 60_000
const iso = (t: number) => new Date(t).toISOString()

export interface CauseStream {
  stream: string
  /** Events of this stream carrying the cause. */
  events: number
  first: string
  last: string
  /** Events of the stream in the 15-minute buckets from `first` to `last`, and the baseline's expectation there. */
  observed: number
  expected: number
  /** Rate deviation (docs/SIGNAL.md) of observed against expected. */
  z: number
  /** |z| reached the stream's warning threshold. */
  moved: boolean
}

export interface GroundTruth {
  generation: Record<string, unknown>
  summary: {
    events: number
    byChannel: Record<string, number>
    flagged: { warning: number; critical: number }
  }
  scenarios: Record<string, unknown>[]
  externalEvents: Record<string, unknown>[]
  actions: Record<string, unknown>[]
  /** Every cause seen on an event, with the streams it shaped (most events first). */
  causes: { cause: string; streams: CauseStream[] }[]
}

interface Tally {
  events: number
  first: number
  last: number
}

export class TruthRecorder {
  readonly #world: World
  readonly #plan: GeneratePlan
  readonly #origin: number
  readonly #warmupHours: number
  /** Per stream: its channel, events, and events per 15-minute bucket since start. */
  readonly #streams = new Map<string, { channel: string; events: number; buckets: number[] }>()
  readonly #causes = new Map<string, Map<string, Tally>>()
  readonly #runs = new Map<string, { activation: ScenarioActivation; status: unknown }>()
  readonly #external = new Map<string, ExternalEvent>()
  readonly #actions: Record<string, unknown>[] = []
  /** Absolute 15-minute bucket of the start. */
  readonly #base: number
  #events = 0
  #warning = 0
  #critical = 0

  constructor(o: { world: World; plan: GeneratePlan; origin: number; warmupHours: number }) {
    this.#world = o.world
    this.#plan = o.plan
    this.#origin = o.origin
    this.#warmupHours = o.warmupHours
    this.#base = Math.floor(o.plan.start / BUCKET)
  }

  observe(e: SimEvent): void {
    this.#events++
    if (e.anomalyFlag === 'warning') this.#warning++
    else if (e.anomalyFlag === 'critical') this.#critical++
    let st = this.#streams.get(e.stream)
    if (!st) this.#streams.set(e.stream, (st = { channel: e.channel, events: 0, buckets: [] }))
    st.events++
    const i = Math.floor(e.ts / BUCKET) - this.#base
    st.buckets[i] = (st.buckets[i] ?? 0) + 1
    if (e.causes.length === 0) return
    for (const c of e.causes) {
      let per = this.#causes.get(c)
      if (!per) this.#causes.set(c, (per = new Map()))
      const t = per.get(e.stream)
      if (t) {
        t.events++
        t.last = e.ts
      } else per.set(e.stream, { events: 1, first: e.ts, last: e.ts })
    }
  }

  scenarioStarted(engine: Engine, a: ScenarioActivation): void {
    this.#runs.set(a.runId, { activation: a, status: engine.scenarioStatus() })
    for (const x of a.events) this.#external.set(x.id, x)
  }

  scenarioChanged(engine: Engine): void {
    const s = engine.scenarioStatus()
    const run = s && this.#runs.get(s.runId)
    if (run) run.status = s
  }

  externalInjected(x: ExternalEvent): void {
    this.#external.set(x.id, x)
  }

  actionApplied(c: Extract<TimedCommand, { kind: 'action' }>, result: unknown): void {
    this.#actions.push({ name: c.name, at: iso(c.at), payload: c.payload, result })
  }

  finish(engine: Engine): GroundTruth {
    this.scenarioChanged(engine)
    // the engine's view of every external event in the run, with its measured impact
    for (const x of engine.externalEvents({ start: this.#plan.start, end: this.#plan.end }))
      this.#external.set(x.id, x)
    const rates = new ExpectedRates(this.#world, this.#plan.seed, this.#origin)
    const causes = [...this.#causes.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([cause, per]) => ({
        cause,
        streams: [...per.entries()]
          .map(([stream, t]) => this.#causeStream(rates, stream, t))
          .sort((a, b) => b.events - a.events || (a.stream < b.stream ? -1 : 1)),
      }))
    const movedBy = (cause: string) =>
      causes
        .find((c) => c.cause === cause)
        ?.streams.filter((s) => s.moved)
        .map((s) => s.stream) ?? []
    const scenarios = [...this.#runs.values()].map(({ activation: a, status }) => {
      const s = status as Record<string, unknown> | null
      const own = [`scenario:${a.scenario.id}`, ...a.events.map((x) => `external:${x.id}`)]
      const cascades = causes.map((c) => c.cause).filter((c) => c.startsWith('cascade:'))
      return {
        runId: a.runId,
        id: a.scenario.id,
        name: a.scenario.name,
        activatedAt: iso(Number(s?.startedAt ?? engine.now)),
        activeUntil: iso(Number(s?.activeUntil ?? a.activeUntil)),
        settlingStartedAt:
          s?.settlingStartedAt === undefined ? null : iso(Number(s.settlingStartedAt)),
        settledAt: s?.settledAt === undefined ? null : iso(Number(s.settledAt)),
        status: s?.status ?? null,
        causes: [...own, ...cascades],
        moved: [...new Set([...own, ...cascades].flatMap(movedBy))].sort(),
      }
    })
    const externalEvents = [...this.#external.values()]
      .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1))
      .map((x) => ({
        id: x.id,
        cause: `external:${x.id}`,
        templateId: x.templateId,
        title: x.title,
        category: x.category,
        severity: x.severity,
        at: x.timestamp,
        window: { start: iso(x.window.start), end: iso(x.window.end) },
        redHerring: x.redHerring,
        source: x.source,
        expectedImpact: x.expectedImpact,
        moved: movedBy(`external:${x.id}`),
      }))
    const byChannel = new Map<string, number>()
    for (const st of this.#streams.values())
      byChannel.set(st.channel, (byChannel.get(st.channel) ?? 0) + st.events)
    return {
      generation: {
        world: this.#plan.world,
        worldHash: this.#world.hash,
        seed: this.#plan.seed,
        start: iso(this.#plan.start),
        end: iso(this.#plan.end),
        warmupHours: this.#warmupHours,
        streams: this.#plan.streams.length > 0 ? this.#plan.streams : ['*'],
        commands: this.#plan.commands.map((c) => c.flag),
      },
      summary: {
        events: this.#events,
        byChannel: Object.fromEntries([...byChannel.entries()].sort()),
        flagged: { warning: this.#warning, critical: this.#critical },
      },
      scenarios,
      externalEvents,
      actions: this.#actions,
      causes,
    }
  }

  #causeStream(rates: ExpectedRates, stream: string, t: Tally): CauseStream {
    const s = this.#world.streamIndex.get(stream)
    const counts = this.#streams.get(stream)?.buckets ?? []
    const from = Math.floor(t.first / BUCKET) - this.#base
    const to = Math.floor(t.last / BUCKET) - this.#base
    let observed = 0
    let expected = 0
    for (let i = from; i <= to; i++) {
      observed += counts[i] ?? 0
      if (s !== undefined) {
        expected += rates.bucket(this.#base + i)[s]!
      }
    }
    const rule = s === undefined ? null : this.#world.streams[s]!.anomaly
    const z = rule ? rateZ(observed, expected, rule.tolerance, rates.dispersion(s!)) : 0
    return {
      stream,
      events: t.events,
      first: iso(t.first),
      last: iso(t.last),
      observed,
      expected: Math.round(expected * 10) / 10,
      z: Math.round(z * 100) / 100,
      moved: rule !== null && Math.abs(z) >= rule.warningSigma,
    }
  }
}
