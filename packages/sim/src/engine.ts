/**
 * The simulation engine: a discrete-event simulation over one priority queue of
 * pending items (the next arrival of every stream, and every scheduled chain
 * outcome), ordered by (time, insertion sequence). `advance(to)` pops every item
 * due by `to` and emits its event, so the output depends only on the world, the
 * seed, the start and the modifier calls (with the simulation time they were made
 * at), never on how a span is split into calls.
 *
 * Arrivals are non-homogeneous Poisson processes whose rate is constant within each
 * UTC hour (baseline × time of day × day of week × calendar × growth × modifiers);
 * the next arrival is found exactly by spending a unit-exponential "mass" across
 * hours (time rescaling). Periodic streams tick on a jittered grid.
 *
 * Scenarios, external events, manual modifiers (`adjustBehavior`) and
 * `setModifiers` act through one controller (scenarios.ts) that composes their
 * modifiers into per-stream parameters; the times at which those change (cascade
 * starts, settlement steps, impact windows, event timestamps, the end of a manual
 * modifier's duration) are breakpoints `advance()` always stops at, so the split
 * invariance holds with them too.
 *
 * Pure: no I/O, no timers, no wall clock, no Math.random().
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import type { StreamInfo } from '@verisim/schema'
import { DAY, HOUR } from './calendar.js'
import type { RateModifier, SimEvent } from './world/types.js'

export type { RateModifier, SimEvent } from './world/types.js'
import { SimError, SimErrorCode } from './errors.js'
import { genericBehavior } from './kit/generic.js'
import type { Behavior, Host } from './kit/module.js'
import { SignalTracker, type StreamSignal } from './signal.js'
import { RateModel } from './rates.js'
import { Rng, deriveKey } from './rng.js'
import { AgentPopulation } from './agents/population.js'
import { Cooldown } from './agents/cooldown.js'
import { Fenwick } from './agents/fenwick.js'
import { SNAPSHOT, decodeState, encodeState, type SnapshotClass } from './state-codec.js'
import type {
  ChainObserver,
  CorrelationAnswer,
  CorrelationQuery,
  SimPort,
  StreamCounters,
} from './correlations.js'
import type { ExternalEvent, ExternalEventInput, TemplateInfo } from './external.js'
import type { ActionResult, WorldDescription } from './kit/module.js'
import { compileValidator } from '@verisim/schema'
import {
  type ModifierConflict,
  type StreamParams,
  streamFacts,
  streamMatcher,
} from './modifiers.js'
import {
  ScenarioController,
  type ActiveModifier,
  type BehaviorAdjustment,
  type BehaviorAdjustmentInput,
  type ScenarioActivation,
  type ScenarioInfo,
  type ScenarioStatus,
} from './scenarios/index.js'
import {
  Anchor,
  ArrivalKind,
  type World,
  type WorldChain,
  type WorldOutcome,
  type WorldStream,
} from './world/types.js'

export interface EngineStats<W = Record<string, unknown>> {
  start: number
  now: number
  events: number
  eventsByStream: Record<string, number>
  /** Items in the queue: the next arrival of each stream plus every scheduled chain outcome. */
  pending: number
  /** The world module's figures of its state (`WorldModule.stats`). */
  world: W
  /** Modifiers in effect: those given to setModifiers plus the manual (adjustBehavior), scenario and external-event ones in effect now. */
  modifiers: number
  /** Parameters several sources modify right now, and how that was resolved. */
  modifierConflicts: ModifierConflict[]
}

export interface EngineOptions {
  world: World
  seed: number
  /** Simulation start, epoch ms UTC. */
  start: number
}

export interface Engine {
  /** Simulation time reached (epoch ms). */
  readonly now: number
  /**
   * Every event with `now < ts <= to`, in non-decreasing `ts` (ties in a fixed
   * order). Any step size; the same total span yields the same events however it is split.
   */
  advance(to: number): SimEvent[]
  catalog(): StreamInfo[]
  /** Replaces the active modifiers from `now` on. */
  setModifiers(mods: readonly RateModifier[]): void
  stats<W = Record<string, unknown>>(): EngineStats<W>
  /**
   * Every stream's signal as of the last completed 15-minute bucket: its window,
   * events seen and expected there, z, normalizedValue and flag (docs/SIGNAL.md).
   */
  signals(): StreamSignal[]

  // --- scenarios (one at a time: active → settling → settled) --------------
  /** The world's scenarios. */
  scenarios(): ScenarioInfo[]
  /**
   * Starts scenario `id` at `now`: applies its modifiers, schedules its cascades,
   * injects its external events. Throws `VS_SIM_UNKNOWN_SCENARIO`, or
   * `VS_SIM_SCENARIO_ACTIVE` while another one is active or settling.
   */
  activateScenario(id: string): ScenarioActivation
  /** Active → settling now. Throws `VS_SIM_NO_ACTIVE_SCENARIO` when none is active. */
  stopScenario(): { runId: string; settlingUntil: number }
  /**
   * Applies a transition that came due (the generator's delayed job): false, and
   * nothing happens, when `runId` is not the current run or the transition no
   * longer applies.
   */
  transitionScenario(runId: string, to: 'settling' | 'settled'): boolean
  /** The current (or last, once settled) scenario run; null when none since start/reset. */
  scenarioStatus(): ScenarioStatus | null
  /**
   * Clears the scenario, its modifiers, every injected external event and every
   * manual modifier (adjustBehavior): back to the baseline from `now` (the seed's
   * streams continue). Modifiers given to setModifiers stay.
   */
  reset(): void

  // --- manual modifiers (the control action adjust_behavior) ----------------
  /**
   * Adds a manual modifier from `now` on (applied with the manual layer, before
   * scenario and external-event modifiers), until its `duration` ends (a
   * breakpoint, so output stays split-invariant) or it is cleared or reset. Events
   * it shapes carry its cause `manual:<id>`; activeModifiers lists it. An id in
   * use replaces that modifier. Throws `VS_SIM_BAD_ARGUMENT` naming the field.
   *
   * @example
   * engine.adjustBehavior({ stream: 'customer.tutor.search', type: 'multiplier', value: 1.5, duration: 'PT2H' })
   * // → { id: 'mod_1', cause: 'manual:mod_1', startTime: …, endsAt: <now + 2 h>, … }
   */
  adjustBehavior(input: BehaviorAdjustmentInput): BehaviorAdjustment
  /**
   * Removes manual modifier `id` (every one when absent) from `now` on; returns
   * those removed. Throws `VS_SIM_UNKNOWN_MODIFIER` for an id not in effect.
   */
  clearManual(id?: string): BehaviorAdjustment[]
  /** The manual modifiers (adjustBehavior) in effect, oldest first. */
  manualModifiers(): BehaviorAdjustment[]

  // --- external events ---------------------------------------------------------
  /**
   * The world's external-event library (empty when it has none), in file order:
   * the templates `injectExternalEvent` accepts as `templateId`.
   *
   * @example
   * engine.templates().map((t) => t.id) // ['viral-blog-post', 'tiktok-mention', …]
   */
  templates(): TemplateInfo[]
  /**
   * Adds an external event (template id + overrides, or a full event) at a past,
   * present or future timestamp; announced on the `external` channel at its
   * timestamp (past ones at once). Throws `VS_SIM_BAD_ARGUMENT` naming the field.
   */
  injectExternalEvent(input: ExternalEventInput): ExternalEvent
  /** External events with `at` in `[start, end]`, with their expected and actual impact. */
  externalEvents(range?: { start?: number; end?: number }): ExternalEvent[]
  /** Which events moved a stream / which streams an event moved, and how strongly (see correlations.ts). */
  correlations(q: CorrelationQuery): CorrelationAnswer
  /** Every manual (adjustBehavior), scenario and external-event modifier in effect or scheduled (not those of setModifiers). */
  activeModifiers(): ActiveModifier[]

  // --- the world ---------------------------------------------------------------
  /** The running world as `GET /api/world` describes it. */
  describe(): WorldDescription
  /**
   * Applies world action `name` (e.g. tutoring's `spawn_students`) at `now`: the
   * payload is validated against the action's schema. Throws
   * `VS_SIM_UNKNOWN_ACTION` naming the world's actions, or `VS_SIM_BAD_ARGUMENT`
   * naming the field. Streams whose rate depends on the state are redrawn from now.
   *
   * @example
   * engine.act('spawn_students', { count: 50 }) // → { spawned: 50, firstId: 'stu_20391', … }
   */
  act(name: string, payload: unknown): ActionResult

  // --- snapshots -------------------------------------------------------------------
  /**
   * The engine as bytes (gzipped JSON): world (id and config hash), seed, start,
   * the simulation time reached, every state-changing call with the time it was
   * made at, and the engine's state (state-codec.ts). {@link restoreEngine} (or
   * `restore`) rebuilds an engine that continues with exactly the events this one
   * would have produced; {@link inspectSnapshot} reads the header. Tutoring 10
   * simulated days in: 3.5 MB, about 0.6 s to take.
   */
  snapshot(): Uint8Array
  /** Replaces this engine's state with a snapshot's (same world); see {@link restoreEngine}. */
  restore(bytes: Uint8Array): void
  /** The state-changing calls so far, oldest first, each with its simulation time (what a snapshot's journal holds). */
  journal(): readonly JournalEntry[]
  /**
   * Makes a call of another engine's journal on this one (at this engine's `now`:
   * advance to the entry's `t` first). Time travel replays the calls made after a
   * snapshot this way.
   */
  apply(entry: JournalEntry): void
}

interface Item {
  t: number
  seq: number
  s: number
  ctx: unknown
  /** Triggering stream, or −1 for an arrival. */
  trig: number
  gen: number
}

interface StreamRt {
  readonly s: WorldStream
  rng: Rng
  readonly behave: Behavior
  count: number
  mult: number
  valueMult: number
  /** Rate override and additive, per ms (NaN / 0: none). */
  rateOv: number
  rateAdd: number
  valueOv: number
  valueAdd: number
  /** Whether the value is modified at all. */
  valueMod: boolean
  causes: string[]
  /** Correlation counters: arrivals emitted, chain picks, and (while `track`) value sums. */
  arrivals: number
  picks: number
  track: boolean
  /** Whether its signal watches the value (SignalTracker.watchesValue). */
  readonly watchValue: boolean
  vsum: number
  rsum: number
  rsq: number
  vn: number
  gen: number
  rateHour: number
  rate: number
  tick: number
}

/** Binary min-heap on (t, seq). */
class Queue {
  #a: Item[] = []
  get size(): number {
    return this.#a.length
  }
  /** The heap's array, as it is (snapshots). */
  get items(): readonly Item[] {
    return this.#a
  }
  /** Takes a heap's array saved from {@link items}. */
  load(items: Item[]): void {
    this.#a = items
  }
  peek(): Item | undefined {
    return this.#a[0]
  }
  push(x: Item): void {
    const a = this.#a
    let i = a.length
    a.push(x)
    while (i > 0) {
      const p = (i - 1) >> 1
      const y = a[p]!
      if (y.t < x.t || (y.t === x.t && y.seq < x.seq)) break
      a[i] = y
      i = p
    }
    a[i] = x
  }
  pop(): Item | undefined {
    const a = this.#a
    const top = a[0]
    const last = a.pop()
    if (top === undefined || last === undefined || a.length === 0) return top
    const n = a.length
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let m = l
      let y = a[l]!
      if (r < n) {
        const z = a[r]!
        if (z.t < y.t || (z.t === y.t && z.seq < y.seq)) {
          m = r
          y = z
        }
      }
      if (last.t < y.t || (last.t === y.t && last.seq < y.seq)) break
      a[i] = y
      i = m
    }
    a[i] = last
    return top
  }
}

const MAX_WALK_HOURS = 24 * 400

/** What {@link Sim.saveState} gives, decoded. */
interface SimState {
  now: number
  seq: number
  events: number
  actions: number
  actionRng: Rng
  signalNext: number
  state: unknown
  streams: Omit<StreamRt, 's' | 'behave' | 'watchValue'>[]
  queue: Item[]
  arrivals: Item[]
  chainP: Map<WorldChain, Float64Array> | null
  scenarios: Record<string, unknown>
  signal: Record<string, unknown>
}

class Sim implements Host, SimPort {
  readonly world: World
  readonly seed: number
  state: unknown
  rng: Rng
  value = NaN
  child: unknown = null
  readonly #start: number
  #now: number
  readonly #rm: RateModel
  readonly #rt: StreamRt[]
  /** Chain outcomes waiting for their time (tens of thousands). */
  readonly #q = new Queue()
  /** The next arrival of each stream (a few dozen): kept apart so the busy streams pay for a small heap only. */
  readonly #arrivals = new Queue()
  #seq = 0
  #events = 0
  #actions = 0
  #actionRng = new Rng(0)
  readonly #ctl: ScenarioController
  /** Outcome probabilities of the chains a probability modifier touches. */
  #chainP: Map<WorldChain, Float64Array> | null = null
  #observer: ChainObserver | null = null
  /** Scratch: weights and supply factors of the outcomes of the chain being fired. */
  readonly #w: Float64Array
  readonly #sup: Float64Array
  /** Each stream's signal against its seasonal baseline (normalizedValue, anomalyFlag). */
  readonly #signal: SignalTracker
  /** Start of the first bucket the signal has not been advanced into (ms). */
  #signalNext = -Infinity
  /** Events emitted so far by stream `s` (the signal counts buckets from it). */
  readonly #emitted = (s: number): number => this.#rt[s]!.count

  /** `saved`: what a snapshot holds that would be computed again here (its signal's expected rates). */
  constructor(opts: EngineOptions, saved?: { perBucket: Float64Array }) {
    const { world, seed, start } = opts
    if (!Number.isFinite(seed))
      throw new SimError(SimErrorCode.badArgument, `seed must be a finite number, got ${seed}`)
    if (!Number.isFinite(start))
      throw new SimError(SimErrorCode.badArgument, `start must be epoch milliseconds, got ${start}`)
    this.world = world
    this.seed = seed
    this.#start = start
    this.#now = start
    this.#signal = new SignalTracker(world, seed, start, saved?.perBucket)
    this.#rm = new RateModel(
      world.profiles,
      world.periods,
      world.config.baseline.growth.monthly,
      start,
    )
    this.state = world.module.init(world, seed, start)
    const behaviors = world.module.behaviors
    this.#rt = world.streams.map((s) => ({
      s,
      rng: new Rng(deriveKey(seed, 'stream', s.name)),
      behave: s.behavior === 'generic' ? genericBehavior : behaviors[s.behavior]!.run,
      count: 0,
      mult: 1,
      valueMult: 1,
      rateOv: NaN,
      rateAdd: 0,
      valueOv: NaN,
      valueAdd: 0,
      valueMod: false,
      causes: [],
      arrivals: 0,
      picks: 0,
      track: false,
      watchValue: s.signalKind !== 'rate',
      vsum: 0,
      rsum: 0,
      rsq: 0,
      vn: 0,
      gen: 0,
      rateHour: NaN,
      rate: 0,
      tick: 0,
    }))
    this.rng = this.#rt[0]!.rng
    let maxOutcomes = 1
    for (const s of world.streams)
      for (const c of s.chains) maxOutcomes = Math.max(maxOutcomes, c.outcomes.length)
    this.#w = new Float64Array(maxOutcomes)
    this.#sup = new Float64Array(maxOutcomes)
    this.#ctl = new ScenarioController(this)
    for (const rt of this.#rt)
      if (rt.s.arrivalKind !== ArrivalKind.none) this.#scheduleArrival(rt, start)
  }

  get now(): number {
    return this.#now
  }

  /**
   * Engine snapshots: everything that changes as the run goes (the world's state,
   * both queues with their contexts, every stream's random stream and counters,
   * the scenario layer, the signal), to be encoded by the state codec in one pass
   * so the objects they share stay shared.
   */
  saveState(): Record<string, unknown> {
    return {
      now: this.#now,
      seq: this.#seq,
      events: this.#events,
      actions: this.#actions,
      actionRng: this.#actionRng,
      signalNext: this.#signalNext,
      state: this.state,
      streams: this.#rt.map((rt) => {
        const { s: _s, behave: _b, watchValue: _w, ...mutable } = rt
        return mutable
      }),
      queue: this.#q.items,
      arrivals: this.#arrivals.items,
      chainP: this.#chainP,
      scenarios: this.#ctl.saveState(),
      signal: this.#signal.saveState(),
    }
  }

  /** Restores {@link saveState}'s decoded data into this engine (new, of the same world, seed and start). */
  loadState(d: SimState): void {
    if (d.streams.length !== this.#rt.length)
      throw new SimError(
        SimErrorCode.badArgument,
        `snapshot: holds ${d.streams.length} streams, world ${this.world.id} has ${this.#rt.length}`,
      )
    this.#now = d.now
    this.#seq = d.seq
    this.#events = d.events
    this.#actions = d.actions
    this.#actionRng = d.actionRng
    this.#signalNext = d.signalNext
    this.state = d.state
    d.streams.forEach((saved, i) => Object.assign(this.#rt[i]!, saved))
    this.rng = this.#rt[0]!.rng
    this.#q.load(d.queue)
    this.#arrivals.load(d.arrivals)
    this.#chainP = d.chainP
    this.#signal.loadState(d.signal)
    // last: the correlation tracker registers its chain observer on this engine again
    this.#ctl.loadState(d.scenarios)
  }

  /** Host: the run's rate model. */
  get rates(): RateModel {
    return this.#rm
  }

  get start(): number {
    return this.#start
  }

  /** A world action at `now`: validated, applied to the state; state-rate arrivals redrawn from now (memoryless). */
  act(name: string, payload: unknown): ActionResult {
    const actions = this.world.module.actions ?? {}
    const spec = actions[name]
    if (!spec)
      throw new SimError(
        SimErrorCode.unknownAction,
        `unknown world action ${JSON.stringify(name)}; world ${this.world.id} has ${Object.keys(actions).join(', ') || 'no actions'}`,
      )
    let v = actionValidators.get(spec)
    if (!v) actionValidators.set(spec, (v = compileValidator(spec.payload)))
    if (!v.check(payload))
      throw new SimError(
        SimErrorCode.badArgument,
        `${name}: payload ${v.problems(payload).join('; ')}`,
      )
    // The action draws from its own sub-stream, so the streams' sequences stay as they were.
    this.rng = this.#actionRng.reseed(
      deriveKey(this.seed, 'action', name, this.#now, this.#actions),
    )
    this.value = NaN
    this.child = null
    const result = spec.apply(this, payload as never, this.#now)
    // counted once applied: a refused action is not journaled, so it must leave no trace in later draws
    this.#actions++
    for (const rt of this.#rt) {
      if (rt.s.arrivalKind !== ArrivalKind.state) continue
      rt.gen++
      this.#scheduleArrival(rt, this.#now)
    }
    return result
  }

  advance(to: number): SimEvent[] {
    if (typeof to !== 'number' || Number.isNaN(to))
      throw new SimError(
        SimErrorCode.badArgument,
        `advance(to) needs epoch milliseconds, got ${String(to)}`,
      )
    const out: SimEvent[] = []
    if (to <= this.#now) return out
    const ctl = this.#ctl
    ctl.flush(out)
    // Stop at every breakpoint (a time the modifiers change) on the way: the same
    // points whatever the split, so the output does not depend on it.
    for (let bp = ctl.nextBreakpoint(this.#now); bp <= to; bp = ctl.nextBreakpoint(this.#now)) {
      this.#drain(bp, out)
      this.#now = bp
      ctl.breakpoint(bp, out)
    }
    this.#drain(to, out)
    this.#now = to
    return out
  }

  /** Emits every item due by `to` (t <= to). */
  #drain(to: number, out: SimEvent[]): void {
    const q = this.#q
    const aq = this.#arrivals
    const rts = this.#rt
    for (;;) {
      // The earlier of the two queue heads, by (t, seq): one total order over both.
      const p = q.peek()
      const a = aq.peek()
      let top: Item
      if (a !== undefined && (p === undefined || a.t < p.t || (a.t === p.t && a.seq < p.seq)))
        top = a
      else if (p !== undefined) top = p
      else break
      // Event time is ceil(t): an item is due when ceil(t) <= to, i.e. t <= to.
      if (top.t > to) break
      if (top === a) aq.pop()
      else q.pop()
      const rt = rts[top.s]!
      if (top.trig === -1) {
        if (top.gen !== rt.gen) continue // superseded by a modifier change
        if (rt.s.arrivalKind !== ArrivalKind.periodic || rt.mult > 0)
          this.#emit(rt, null, -1, top.t, out)
        this.#scheduleArrival(rt, top.t, top)
      } else {
        this.#emit(rt, top.ctx, top.trig, top.t, out)
      }
    }
  }

  catalog(): StreamInfo[] {
    return this.world.catalog.map((c) => ({ ...c }))
  }

  setModifiers(mods: readonly RateModifier[]): void {
    const n = this.#rt.length
    mods.forEach((m, i) => {
      if (typeof m.stream !== 'string')
        throw new SimError(SimErrorCode.badArgument, `modifier ${i}: stream must be a string`)
      for (const [key, v] of [
        ['multiplier', m.multiplier],
        ['valueMultiplier', m.valueMultiplier],
      ] as const) {
        if (v !== undefined && !(Number.isFinite(v) && v >= 0))
          throw new SimError(
            SimErrorCode.badArgument,
            `modifier ${i} (${m.stream}): ${key} must be a finite number >= 0, got ${String(v)}`,
          )
      }
      const match = streamMatcher(m.stream)
      let hit = false
      for (let s = 0; s < n && !hit; s++) hit = match(this.#rt[s]!.s.name)
      if (!hit)
        throw new SimError(
          SimErrorCode.badArgument,
          `modifier ${i}: "${m.stream}" matches no stream of world ${this.world.id}`,
        )
    })
    // The manual layer of the controller (before scenario and external events).
    const facts = streamFacts(this.world)
    const manual = mods.flatMap((m) => {
      const match = streamMatcher(m.stream)
      const streams: number[] = []
      facts.forEach((f, s) => {
        if (match(f.name)) streams.push(s)
      })
      const one = (target: 'rate' | 'value', value: number) => ({
        cause: m.cause,
        mod: {
          stream: m.stream,
          streams,
          type: 'multiplier' as const,
          target,
          value,
          precedence: undefined,
          description: undefined,
          deviation: Math.abs(value - 1),
          spec: { stream: m.stream, type: 'multiplier' as const, target, value },
        },
      })
      const out = []
      if (m.multiplier !== undefined && m.multiplier !== 1) out.push(one('rate', m.multiplier))
      if (m.valueMultiplier !== undefined && m.valueMultiplier !== 1)
        out.push(one('value', m.valueMultiplier))
      // a modifier that changes nothing still marks its streams' events with its cause
      if (out.length === 0) out.push(one('rate', 1))
      return out
    })
    this.#ctl.setManual(manual, mods.length)
  }

  /** SimPort: runs with `params` from now on (arrivals of streams whose rate changed are redrawn from now). */
  applyParams(params: readonly StreamParams[], chainP: Map<WorldChain, Float64Array> | null): void {
    this.#chainP = chainP
    for (let s = 0; s < this.#rt.length; s++) {
      const rt = this.#rt[s]!
      const p = params[s]!
      rt.valueMult = p.valueMult
      rt.valueOv = p.valueOverride
      rt.valueAdd = p.valueAdd
      rt.valueMod = p.valueMult !== 1 || p.valueAdd !== 0 || !Number.isNaN(p.valueOverride)
      rt.causes = p.causes
      const ov = Number.isNaN(p.rateOverride) ? NaN : p.rateOverride / HOUR
      const add = p.rateAdd / HOUR
      if (rt.mult === p.rateMult && Object.is(rt.rateOv, ov) && rt.rateAdd === add) continue
      rt.mult = p.rateMult
      rt.rateOv = ov
      rt.rateAdd = add
      rt.rateHour = NaN
      if (rt.s.arrivalKind === ArrivalKind.poisson || rt.s.arrivalKind === ArrivalKind.state) {
        // Memoryless: redraw the next arrival from now under the new rate.
        rt.gen++
        this.#scheduleArrival(rt, this.#now)
      }
    }
  }

  /** SimPort: the unmodified rate of stream `s` during UTC hour `h`, per ms. */
  baseRate(s: number, h: number): number {
    const st = this.#rt[s]!.s
    if (st.arrivalKind === ArrivalKind.state)
      return st.stateRate!.rate(this.state, this.world, st) * this.#rm.factor(st.profile, h)
    if (st.arrivalKind === ArrivalKind.poisson)
      return (st.perDay / DAY) * this.#rm.factor(st.profile, h)
    return 0
  }

  /** SimPort: cumulative counters of stream `s`. */
  counters(s: number): StreamCounters {
    const rt = this.#rt[s]!
    return {
      arrivals: rt.arrivals,
      picks: rt.picks,
      emitted: rt.count,
      valueSum: rt.vsum,
      rawSum: rt.rsum,
      rawSq: rt.rsq,
      valueN: rt.vn,
    }
  }

  trackValues(s: number, on: boolean): void {
    this.#rt[s]!.track = on
  }

  observeChains(fn: ChainObserver | null): void {
    this.#observer = fn
  }

  get controller(): ScenarioController {
    return this.#ctl
  }

  signals(): StreamSignal[] {
    this.#signalNext = this.#signal.advanceTo(this.#now, this.#emitted)
    return this.#signal.signals()
  }

  stats(): EngineStats {
    const byStream: Record<string, number> = {}
    for (const rt of this.#rt) byStream[rt.s.name] = rt.count
    return {
      start: this.#start,
      now: this.#now,
      events: this.#events,
      eventsByStream: byStream,
      pending: this.#q.size + this.#arrivals.size,
      world: this.world.module.stats(this.state, this.world),
      modifiers: this.#ctl.modifierCount,
      modifierConflicts: this.#ctl.conflicts.map((c) => ({ ...c, sources: [...c.sources] })),
    }
  }

  #emit(rt: StreamRt, ctx: unknown, trig: number, t: number, out: SimEvent[]): void {
    const s = rt.s
    const rng = rt.rng
    this.rng = rng
    this.value = s.valueSampler !== undefined ? s.valueSampler(rng) : NaN
    this.child = null
    const data = rt.behave(this, s, ctx, t, trig)
    // An arrival counts as the arrival process's decision even when the behaviour skips
    // the event (a failed precondition, an agent draw thinned out), as a chain's picks do.
    if (trig === -1) rt.arrivals++
    if (data === null) return
    const fields = s.fields
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!
      if (data[f.name] === undefined) data[f.name] = f.sample(rng)
    }
    const raw = this.value
    let v = raw
    if (rt.valueMod)
      v =
        Math.round(
          ((rt.valueOv === rt.valueOv ? rt.valueOv : v) * rt.valueMult + rt.valueAdd) * 100,
        ) / 100
    data[s.valueField] = v
    if (rt.track) {
      rt.vsum += v
      rt.rsum += raw
      rt.rsq += raw * raw
      rt.vn++
    }
    const sig = this.#signal
    const ts = Math.ceil(t)
    // the bucket of the event's timestamp, as the history counts it
    if (ts >= this.#signalNext) this.#signalNext = sig.advanceTo(ts, this.#emitted)
    if (rt.watchValue) sig.observeValue(s.index, v)
    out.push({
      ts,
      stream: s.name,
      channel: s.channel,
      data,
      normalizedValue: sig.normalized[s.index]!,
      anomalyFlag: sig.flag(s.index),
      causes: rt.causes.length === 0 ? [] : rt.causes.slice(),
    })
    rt.count++
    this.#events++
    const chains = s.chains
    if (chains.length === 0) return
    const child = this.child
    for (let i = 0; i < chains.length; i++) this.#fire(chains[i]!, data, child, t, s.index, rng)
  }

  /** Supply/demand factor of an outcome at `t` (1 without a supply correlation). */
  #supply(o: WorldOutcome, t: number): number {
    if (o.supply === undefined) return 1
    const supply = this.world.module.supply!
    const expected = supply.initial(this.state) * this.#rm.growth(t)
    const f = Math.pow(supply.current(this.state) / expected, o.supply.elasticity)
    return f < o.supply.floor ? o.supply.floor : f > o.supply.cap ? o.supply.cap : f
  }

  #fire(
    c: WorldChain,
    data: Record<string, unknown>,
    ctx: unknown,
    t: number,
    trig: number,
    rng: Rng,
  ): void {
    const w = c.when
    if (w !== undefined) {
      const x = data[w.field]
      if (w.eq !== undefined && x !== w.eq) return
      if (w.lte !== undefined && !(typeof x === 'number' && x <= w.lte)) return
      if (w.gte !== undefined && !(typeof x === 'number' && x >= w.gte)) return
    }
    const outs = c.outcomes
    // weight = probability (as modified) × the outcome stream's rate multiplier × supply
    const P = this.#chainP === null ? undefined : this.#chainP.get(c)
    const ws = this.#w
    const sup = this.#sup
    let sum = 0
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i]!
      const f = this.#supply(o, t)
      sup[i] = f
      let x = (P === undefined ? o.probability : P[i]!) * this.#rt[o.stream]!.mult
      if (o.supply !== undefined) x *= f
      ws[i] = x
      sum += x
    }
    if (this.#observer !== null) this.#observer(c, ws, sup)
    if (c.oneOf) {
      if (!(sum > 0)) return
      let u = rng.next() * (c.complete || sum > 1 ? sum : 1)
      for (let i = 0; i < outs.length; i++) {
        u -= ws[i]!
        if (u < 0) {
          this.#schedule(outs[i]!, ctx, t, trig, rng)
          return
        }
      }
    } else {
      for (let i = 0; i < outs.length; i++) {
        if (rng.next() < ws[i]!) this.#schedule(outs[i]!, ctx, t, trig, rng)
      }
    }
  }

  #schedule(o: WorldOutcome, ctx: unknown, t: number, trig: number, rng: Rng): void {
    const d = o.delay(rng) * HOUR
    let at: number
    if (o.anchor === Anchor.trigger) at = t + d
    else at = o.anchorSpec!.at(ctx) + d
    if (!(at >= t)) at = t // never before its cause
    this.#rt[o.stream]!.picks++
    this.#q.push({ t: at, seq: this.#seq++, s: o.stream, ctx, trig, gen: 0 })
  }

  /** Rate per ms of a Poisson stream during UTC hour `h`. */
  #rate(rt: StreamRt, h: number): number {
    const s = rt.s
    if (s.arrivalKind === ArrivalKind.state)
      return this.#modified(
        rt,
        s.stateRate!.rate(this.state, this.world, s) * this.#rm.factor(s.profile, h),
      )
    if (rt.rateHour !== h) {
      rt.rateHour = h
      rt.rate = this.#modified(rt, (s.perDay / DAY) * this.#rm.factor(s.profile, h))
    }
    return rt.rate
  }

  /** A base rate with the stream's rate modifiers: (override ?? base) × multiplier + additive, never negative. */
  #modified(rt: StreamRt, base: number): number {
    if (rt.rateAdd === 0 && rt.rateOv !== rt.rateOv) return base * rt.mult
    const r = (rt.rateOv === rt.rateOv ? rt.rateOv : base) * rt.mult + rt.rateAdd
    return r > 0 ? r : 0
  }

  #scheduleArrival(rt: StreamRt, from: number, reuse?: Item): void {
    const s = rt.s
    let at: number
    if (s.arrivalKind === ArrivalKind.periodic) {
      rt.tick++
      at =
        this.#start +
        rt.tick * s.everyMs +
        (s.jitterMs > 0 ? rt.rng.uniform(-s.jitterMs, s.jitterMs) : 0)
    } else {
      let e = rt.rng.exp()
      let t = from
      at = Infinity
      for (let k = 0; k < MAX_WALK_HOURS; k++) {
        const h = Math.floor(t / HOUR)
        const r = this.#rate(rt, h)
        const end = (h + 1) * HOUR
        const mass = r * (end - t)
        if (e < mass) {
          at = t + e / r
          break
        }
        e -= mass
        t = end
      }
      if (at === Infinity) return // silenced (rate 0): a later setModifiers reschedules it
    }
    const item = reuse ?? { t: 0, seq: 0, s: s.index, ctx: null, trig: -1, gen: rt.gen }
    item.t = at
    item.seq = this.#seq++
    item.gen = rt.gen
    this.#arrivals.push(item)
  }
}

/** A state-changing call of the engine port, with the simulation time it was made at (a snapshot's journal). */
export type JournalEntry =
  | { t: number; op: 'setModifiers'; mods: RateModifier[] }
  | { t: number; op: 'activateScenario'; id: string }
  | { t: number; op: 'stopScenario' }
  | { t: number; op: 'transitionScenario'; runId: string; to: 'settling' | 'settled' }
  | { t: number; op: 'reset' }
  | { t: number; op: 'adjustBehavior'; input: unknown }
  | { t: number; op: 'clearManual'; id?: string }
  | { t: number; op: 'injectExternalEvent'; input: unknown }
  | { t: number; op: 'act'; name: string; payload: unknown }

interface SnapshotDoc {
  /** 1: the journal only (re-simulated from the start); 2: the state too. */
  v: 1 | 2
  world: string
  worldHash: string
  seed: number
  start: number
  now: number
  journal: JournalEntry[]
  /** The engine's state (state codec); null when it could not be encoded (then `stateError` says why). */
  state?: unknown
  stateError?: string
}

/** The kernel's classes a world's state may hold, and the world's own (`WorldModule.snapshotClasses`). */
function snapshotClasses(world: World): SnapshotClass<unknown>[] {
  return [
    Rng[SNAPSHOT],
    Fenwick[SNAPSHOT],
    AgentPopulation[SNAPSHOT],
    Cooldown[SNAPSHOT],
    ...(world.module.snapshotClasses ?? []).map((c) => c[SNAPSHOT]),
  ] as SnapshotClass<unknown>[]
}

/** The snapshot of `sim`: its state encoded, and the journal that led to it. */
function takeSnapshot(sim: Sim, journal: JournalEntry[], world: World): Uint8Array {
  const doc: SnapshotDoc = {
    v: 2,
    world: world.id,
    worldHash: world.hash,
    seed: sim.seed,
    start: sim.start,
    now: sim.now,
    journal,
  }
  let state = 'null'
  try {
    state = encodeState(sim.saveState(), world)
  } catch (err) {
    // still a snapshot: restoring it re-simulates the journal (slower, same events)
    doc.stateError = (err as Error).message
  }
  const json = JSON.stringify(doc)
  // gzip at its fastest level: the contexts' numbers and ids shrink about tenfold
  return gzipSync(`${json.slice(0, -1)},"state":${state}}`, { level: 1 })
}

const actionValidators = new WeakMap<object, ReturnType<typeof compileValidator>>()

function describeWorld(world: World): WorldDescription {
  const m = world.module
  return {
    id: world.id,
    model: m.model,
    description: m.description,
    channels: world.channels,
    streams: world.streams.map((s) => ({
      name: s.name,
      channel: s.channel,
      domain: s.domain,
      cadence: s.cadence,
      unit: s.unit,
      behavior: s.behavior,
    })),
    segments: m.segments?.(world) ?? [],
    actions: Object.entries(m.actions ?? {}).map(([name, a]) => ({
      name,
      description: a.description,
      payload: a.payload,
    })),
    statsKeys: [],
    warmupHours: m.warmupHours,
    ...(m.entityFields ? { entityFields: m.entityFields } : {}),
    ...(m.milestones ? { milestones: m.milestones } : {}),
    ...(m.kpis ? { kpis: m.kpis } : {}),
  }
}

/** Runs one journal entry against `sim` (the engine port's calls, as they were made). */
function replay(sim: Sim, e: JournalEntry): void {
  const c = sim.controller
  switch (e.op) {
    case 'setModifiers':
      return sim.setModifiers(e.mods)
    case 'activateScenario':
      c.activate(e.id)
      return
    case 'stopScenario':
      c.stop()
      return
    case 'transitionScenario':
      c.transition(e.runId, e.to)
      return
    case 'reset':
      return c.reset()
    case 'adjustBehavior':
      c.adjust(e.input)
      return
    case 'clearManual':
      c.clearAdjustments(e.id)
      return
    case 'injectExternalEvent':
      c.inject(e.input)
      return
    case 'act':
      sim.act(e.name, e.payload)
      return
  }
}

function parseSnapshot(bytes: Uint8Array): SnapshotDoc {
  let doc: SnapshotDoc
  try {
    // version 2 is gzipped JSON; version 1 plain JSON
    const json = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes
    doc = JSON.parse(new TextDecoder().decode(json)) as SnapshotDoc
  } catch (err) {
    throw new SimError(
      SimErrorCode.badArgument,
      'snapshot: not a Verisim engine snapshot (expected gzipped JSON, or JSON)',
      { cause: err },
    )
  }
  if (
    doc === null ||
    typeof doc !== 'object' ||
    (doc.v !== 1 && doc.v !== 2) ||
    !Array.isArray(doc.journal)
  )
    throw new SimError(
      SimErrorCode.badArgument,
      'snapshot: not a Verisim engine snapshot of version 1 or 2',
    )
  return doc
}

function decodeSnapshot(world: World, bytes: Uint8Array): SnapshotDoc {
  const doc = parseSnapshot(bytes)
  if (doc.world !== world.id)
    throw new SimError(
      SimErrorCode.badArgument,
      `snapshot: taken of world ${JSON.stringify(doc.world)}, not ${JSON.stringify(world.id)}`,
    )
  if (doc.worldHash !== world.hash)
    throw new SimError(
      SimErrorCode.badArgument,
      `snapshot: taken with another config of world ${world.id} (config hash ${doc.worldHash.slice(0, 12)}…, now ${world.hash.slice(0, 12)}…); replaying it would not reproduce the run`,
    )
  return doc
}

/** What a snapshot holds, without its state: its header, journal and whether the state itself is in it. */
export interface SnapshotInfo {
  version: 1 | 2
  world: string
  worldHash: string
  seed: number
  start: number
  /** Simulation time it was taken at (epoch ms). */
  now: number
  /** The state-changing calls that led to it, with their simulation times. */
  journal: readonly JournalEntry[]
  /** Whether it holds the engine's state (restored at once) or only the journal (re-simulated from the start). */
  hasState: boolean
  /** Why the state could not be encoded, when it could not. */
  stateError?: string
}

/**
 * Reads a snapshot's header (any world: nothing is checked against one).
 * Throws `VS_SIM_BAD_ARGUMENT` for bytes that are not an engine snapshot.
 *
 * @example
 * inspectSnapshot(engine.snapshot()).journal.length // commands so far
 */
export function inspectSnapshot(bytes: Uint8Array): SnapshotInfo {
  const doc = parseSnapshot(bytes)
  return {
    version: doc.v,
    world: doc.world,
    worldHash: doc.worldHash,
    seed: doc.seed,
    start: doc.start,
    now: doc.now,
    journal: doc.journal,
    hasState: doc.v === 2 && doc.state !== null && doc.state !== undefined,
    ...(doc.stateError === undefined ? {} : { stateError: doc.stateError }),
  }
}

/**
 * A snapshot's engine: its state loaded into a new engine when it holds one;
 * otherwise (version 1, or a state that could not be encoded) its run
 * re-simulated: a new engine, its calls replayed at their times, advanced to its
 * time (events dropped).
 */
function rebuild(world: World, doc: SnapshotDoc): { sim: Sim; journal: JournalEntry[] } {
  const opts = { world, seed: doc.seed, start: doc.start }
  if (doc.v === 2 && doc.state !== null && doc.state !== undefined) {
    const state = decodeState(doc.state, world, snapshotClasses(world)) as SimState
    const { perBucket } = state.signal.rates as { perBucket: Float64Array }
    if (!(perBucket instanceof Float64Array) || perBucket.length !== world.streams.length)
      throw new SimError(SimErrorCode.badArgument, 'snapshot: corrupt state (signal rates)')
    const sim = new Sim(opts, { perBucket })
    sim.loadState(state)
    return { sim, journal: doc.journal.slice() }
  }
  const sim = new Sim(opts)
  const DAY_STEP = DAY
  const to = (t: number): void => {
    while (sim.now < t) sim.advance(Math.min(t, sim.now + DAY_STEP))
  }
  for (const e of doc.journal) {
    to(e.t)
    replay(sim, e)
  }
  to(doc.now)
  return { sim, journal: doc.journal.slice() }
}

/**
 * Rebuilds an engine from {@link Engine.snapshot}'s bytes for the same world (its
 * config hash must match): it continues with exactly the events the snapshotted
 * engine would have produced. Cost: decoding the state, under a second however
 * long the run (tutoring 30 simulated days in: 2.6 MB, about 0.4 s once warm);
 * for a snapshot without one (version 1, or a world state the codec could not
 * write) re-simulating the run from its start, about 1 s per simulated day of
 * tutoring.
 */
export function restoreEngine(world: World, bytes: Uint8Array): Engine {
  const doc = decodeSnapshot(world, bytes)
  const { sim, journal } = rebuild(world, doc)
  return port(sim, journal, world)
}

/**
 * Advances `engine` to `to` without keeping its events (steps of a simulated day
 * at most, so memory stays bounded): catching up after a restore or a travel.
 */
export function skipTo(engine: Engine, to: number): void {
  while (engine.now < to) engine.advance(Math.min(to, engine.now + DAY))
}

/**
 * Creates an engine for `world` from `start`, seeded with `seed`.
 *
 * @example
 * const engine = createEngine({ world, seed: 42, start: Date.UTC(2025, 1, 24) })
 * const events = engine.advance(engine.now + 60_000) // the first simulated minute
 */
export function createEngine(opts: EngineOptions): Engine {
  return port(new Sim(opts), [], opts.world)
}

function port(first: Sim, journal0: JournalEntry[], world: World): Engine {
  let sim = first
  let journal = journal0
  /** Records a call that changed the state (a call that throws changes nothing and is not recorded). */
  const log = <T>(entry: JournalEntry, result: T): T => {
    journal.push(entry)
    return result
  }
  return {
    get now() {
      return sim.now
    },
    advance: (to) => sim.advance(to),
    catalog: () => sim.catalog(),
    setModifiers: (mods) =>
      log(
        { t: sim.now, op: 'setModifiers', mods: mods.map((m) => ({ ...m })) },
        sim.setModifiers(mods),
      ),
    stats: <W>() => sim.stats() as EngineStats<W>,
    signals: () => sim.signals(),
    scenarios: () => sim.controller.scenarios(),
    activateScenario: (id) =>
      log({ t: sim.now, op: 'activateScenario', id }, sim.controller.activate(id)),
    stopScenario: () => log({ t: sim.now, op: 'stopScenario' }, sim.controller.stop()),
    transitionScenario: (runId, to) => {
      const t = sim.now
      const done = sim.controller.transition(runId, to)
      return done ? log({ t, op: 'transitionScenario', runId, to }, done) : done
    },
    scenarioStatus: () => sim.controller.status(),
    reset: () => log({ t: sim.now, op: 'reset' }, sim.controller.reset()),
    adjustBehavior: (input) =>
      log(
        { t: sim.now, op: 'adjustBehavior', input: structuredClone(input) },
        sim.controller.adjust(input),
      ),
    clearManual: (id) =>
      log(
        { t: sim.now, op: 'clearManual', ...(id === undefined ? {} : { id }) },
        sim.controller.clearAdjustments(id),
      ),
    manualModifiers: () => sim.controller.adjustments(),
    templates: () => sim.controller.templates(),
    injectExternalEvent: (input) =>
      log(
        { t: sim.now, op: 'injectExternalEvent', input: structuredClone(input) },
        sim.controller.inject(input),
      ),
    externalEvents: (range) => sim.controller.externalEvents(range),
    correlations: (q) => sim.controller.correlations(q),
    activeModifiers: () => sim.controller.activeModifiers(),
    describe: () => describeWorld(world),
    act: (name, payload) =>
      log(
        { t: sim.now, op: 'act', name, payload: structuredClone(payload) },
        sim.act(name, payload),
      ),
    snapshot: () => takeSnapshot(sim, journal, world),
    restore: (bytes) => {
      const rebuilt = rebuild(world, decodeSnapshot(world, bytes))
      sim = rebuilt.sim
      journal = rebuilt.journal
    },
    journal: () => journal,
    apply: (entry) => {
      // journaled only once it applied (a call that throws changes nothing)
      replay(sim, entry)
      journal.push({ ...entry, t: sim.now })
    },
  }
}
