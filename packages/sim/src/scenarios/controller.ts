/**
 * Scenarios: their definitions (`scenario-definitions.json`, validated at load
 * against the world and the external-event library) and the controller that runs
 * them inside the engine together with external events and `setModifiers`.
 *
 * Lifecycle `active → settling → settled`, one scenario at a time: a new one is
 * refused while another is active, and replaces one that is settling (which ends
 * at that moment, as if it had settled). The transitions are commands: the
 * generator turns `nextTransition` into a delayed job and applies it when it comes
 * due, so seed + control log replay a run. The strength of the scenario's
 * modifiers is a pure function of simulation time: 1 while active, then the
 * settlement curve — `linear` (even decline to neutral over the settlement
 * duration), `exponential` (decay calibrated so the largest deviation is 5 % of
 * baseline at the end of the settlement duration), `immediate` (neutral at once),
 * plus optional `backlog` modifiers that start with settling and fade linearly over
 * it. The curve is applied in steps (1–15 min, 24 per settlement at most) so the
 * engine's rates are piecewise constant and a run does not depend on how
 * `advance()` is split. At the end of the settlement duration every modifier of the
 * scenario is neutral: within 5 % of baseline (in fact at baseline).
 *
 * The controller owns the modifier layers (manual → scenario → external events),
 * recomposes them at every change point (a breakpoint the engine stops at: cascade
 * starts, settlement steps, event timestamps and impact windows, the end of a
 * manual modifier's duration), and feeds the correlation tracker.
 *
 * The manual layer holds two kinds: the embedding code's `setModifiers` (tests,
 * benchmarks; not part of the simulation state, kept by reset) and the control
 * plane's `adjust_behavior` modifiers (`manual:<id>`: listed in activeModifiers,
 * recorded in events' causes, cleared by reset). An adjust_behavior modifier acts
 * from the simulation time it was added at, like every other command, so seed +
 * control log replay it.
 */
import {
  CorrelationTracker,
  type CorrelationAnswer,
  type CorrelationQuery,
  type SimPort,
} from '../correlations.js'
import { formatIsoDuration } from '../durations.js'
import { SimError, SimErrorCode } from '../errors.js'
import {
  resolveEventInput,
  templateInfo,
  trackedStreams,
  type EventRecord,
  type ExternalEvent,
  type TemplateInfo,
} from '../external.js'
import {
  chainProbabilities,
  composeParams,
  type CompiledModifier,
  type ModifierConflict,
  type ModifierEntry,
} from '../modifiers.js'
import type { SimEvent } from '../world/types.js'
import type { World } from '../world/types.js'
import type {
  ActiveModifier,
  BehaviorAdjustment,
  CompiledScenario,
  ScenarioActivation,
  ScenarioInfo,
  ScenarioPhase,
  ScenarioSet,
  ScenarioStatus,
} from './types.js'
import { backlogStrength, settleStepMs, settleStrength } from './settle.js'
import {
  describeAdjustment,
  describeModifier,
  iso,
  resolveAdjustment,
  type Adjustment,
} from './adjust.js'
// ---------------------------------------------------------------------------
// the controller

interface Run {
  readonly runId: string
  readonly def: CompiledScenario
  readonly startedAt: number
  status: ScenarioPhase
  settlingStartedAt?: number
  settledAt?: number
  activeUntil: number
  settledBy: number
}

/** The modifiers setModifiers installs (validated by the engine). */
export interface ManualModifier {
  readonly mod: CompiledModifier
  readonly cause: string | undefined
}

/** A modifier adjust_behavior added: in effect over `[start, end)` (end Infinity: until cleared or reset). */

/** Where a modifier comes from, for `activeModifiers()`. */
interface TaggedEntry extends ModifierEntry {
  readonly role: string | undefined
  readonly until: number
  readonly status: 'active' | 'settling'
  /** Set for an adjust_behavior modifier. */
  readonly adjustment?: Adjustment
}

export class ScenarioController {
  readonly #port: SimPort
  readonly #world: World
  readonly #set: ScenarioSet
  readonly #tracker: CorrelationTracker
  #manual: readonly ManualModifier[] = []
  /** How many modifiers setModifiers was given (one may make two entries: rate and value). */
  #manualDeclared = 0
  /** adjust_behavior modifiers in effect, in application order (oldest first). */
  #adjust: readonly Adjustment[] = []
  /** Last number of an automatic id `mod_<n>`. */
  #adjustSeq = 0
  #run: Run | null = null
  #runs = 0
  #eventSeq = 0
  #events: EventRecord[] = []
  /** Announcements due at the start of the next advance (events at or before their injection). */
  #pending: EventRecord[] = []
  #conflicts: ModifierConflict[] = []
  #entryCount = 0

  constructor(port: SimPort) {
    this.#port = port
    this.#world = port.world
    this.#set = port.world.scenarioSet
    this.#tracker = new CorrelationTracker(port)
  }

  /**
   * Engine snapshots: the manual and adjust_behavior modifiers, the scenario run,
   * the external events and their correlation tracks. The parameters they compose
   * into are the engine's own state (StreamRt), restored with it.
   */
  saveState(): Record<string, unknown> {
    return {
      manual: this.#manual,
      manualDeclared: this.#manualDeclared,
      adjust: this.#adjust,
      adjustSeq: this.#adjustSeq,
      run: this.#run,
      runs: this.#runs,
      eventSeq: this.#eventSeq,
      events: this.#events,
      pending: this.#pending,
      conflicts: this.#conflicts,
      entryCount: this.#entryCount,
      // after the events: its map is keyed by those records
      tracker: this.#tracker.saveState(),
    }
  }

  /** Restores {@link saveState}'s data into this controller (of an engine of the same world). */
  loadState(data: Record<string, unknown>): void {
    const d = data as ReturnType<ScenarioController['saveState']> & {
      manual: ManualModifier[]
      manualDeclared: number
      adjust: Adjustment[]
      adjustSeq: number
      run: Run | null
      runs: number
      eventSeq: number
      events: EventRecord[]
      pending: EventRecord[]
      conflicts: ModifierConflict[]
      entryCount: number
      tracker: Record<string, unknown>
    }
    this.#manual = d.manual
    this.#manualDeclared = d.manualDeclared
    this.#adjust = d.adjust
    this.#adjustSeq = d.adjustSeq
    this.#run = d.run
    this.#runs = d.runs
    this.#eventSeq = d.eventSeq
    this.#events = d.events
    this.#pending = d.pending
    this.#conflicts = d.conflicts
    this.#entryCount = d.entryCount
    this.#tracker.loadState(d.tracker)
  }

  get conflicts(): readonly ModifierConflict[] {
    return this.#conflicts
  }

  /** Number of modifier entries in effect. */
  get entryCount(): number {
    return this.#entryCount
  }

  /** Modifiers in effect, counting each one given to setModifiers once. */
  get modifierCount(): number {
    return this.#manualDeclared + this.#entryCount - this.#manual.length
  }

  scenarios(): ScenarioInfo[] {
    return this.#set.scenarios.map((s) => ({ ...s.info }))
  }

  templates(): TemplateInfo[] {
    return this.#set.templates.map(templateInfo)
  }

  setManual(mods: readonly ManualModifier[], declared: number): void {
    this.#manual = mods
    this.#manualDeclared = declared
    this.#recompose(this.#port.now)
  }

  /**
   * Adds a manual modifier from now on, until its duration ends (a breakpoint) or
   * it is cleared or reset. An id in use replaces that modifier (the new one
   * applies last). Throws `VS_SIM_BAD_ARGUMENT` naming the field.
   */
  adjust(input: unknown): BehaviorAdjustment {
    const r = resolveAdjustment(this.#world, input)
    const now = this.#port.now
    let id = r.id
    if (id === undefined) {
      do id = `mod_${++this.#adjustSeq}`
      while (this.#adjust.some((a) => a.id === id))
    }
    const adj: Adjustment = {
      id,
      mod: r.mod,
      start: now,
      end: r.durationMs === undefined ? Infinity : now + r.durationMs,
      duration: r.duration ?? null,
    }
    this.#adjust = [...this.#adjust.filter((a) => a.id !== id), adj]
    this.#recompose(now)
    return describeAdjustment(adj)
  }

  /**
   * Removes manual modifier `id`, or every one when `id` is undefined, from now
   * on; returns those removed. Throws `VS_SIM_UNKNOWN_MODIFIER` for an id that is
   * not in effect (never added, expired, cleared or reset).
   */
  clearAdjustments(id?: string): BehaviorAdjustment[] {
    const gone = id === undefined ? this.#adjust : this.#adjust.filter((a) => a.id === id)
    if (id !== undefined && gone.length === 0)
      throw new SimError(
        SimErrorCode.unknownModifier,
        `clear: no manual modifier "${id}" is in effect (${this.#adjust.length === 0 ? 'none is' : `in effect: ${this.#adjust.map((a) => a.id).join(', ')}`})`,
      )
    if (gone.length > 0) {
      this.#adjust = this.#adjust.filter((a) => !gone.includes(a))
      this.#recompose(this.#port.now)
    }
    return gone.map(describeAdjustment)
  }

  /** The adjust_behavior modifiers in effect, oldest first. */
  adjustments(): BehaviorAdjustment[] {
    return this.#adjust.map(describeAdjustment)
  }

  activate(id: string): ScenarioActivation {
    const def = this.#set.byId.get(id)
    if (!def)
      throw new SimError(
        SimErrorCode.unknownScenario,
        `unknown scenario "${id}"; the world ${this.#world.id} has ${this.#set.scenarios.length === 0 ? 'no scenarios' : this.#set.scenarios.map((s) => s.info.id).join(', ')}`,
      )
    const run = this.#run
    if (run && run.status === 'active')
      throw new SimError(
        SimErrorCode.scenarioActive,
        `scenario "${run.def.info.id}" (${run.runId}) is active; stop it first (a settling scenario is replaced), or reset`,
      )
    const now = this.#port.now
    // resolve the scenario's events first: nothing changes if one is refused
    const resolved = def.events.map((e) =>
      resolveEventInput(
        this.#world,
        this.#set.templateById,
        { templateId: e.templateId, timestamp: now + e.offsetMs, ...e.overrides },
        now,
      ),
    )
    // A settling run is replaced: it ends now (its modifiers and whatever of its
    // events is still to come stop here), and its transition jobs no longer match
    // the current runId, so they are no-ops when they come due.
    let replaced: ScenarioActivation['replaced']
    if (run && run.status === 'settling') {
      replaced = { scenarioId: run.def.info.id, runId: run.runId, phase: 'settling' }
      this.#endRun(run, now)
    }
    const runId = `run_${++this.#runs}`
    const activeUntil = now + def.info.durationMs
    this.#run = {
      runId,
      def,
      startedAt: now,
      status: 'active',
      activeUntil,
      settledBy: activeUntil + def.info.settleMs,
    }
    const events = resolved.map((r) => publicEvent(this.#commitEvent(r, `scenario:${id}`, runId)))
    this.#recompose(now)
    return {
      scenario: { ...def.info },
      runId,
      events,
      estimatedDuration: formatIsoDuration(def.info.durationMs + def.info.settleMs),
      activeUntil,
      settledBy: activeUntil + def.info.settleMs,
      warnings: this.#conflicts.map((c) => ({ ...c, sources: [...c.sources] })),
      ...(replaced === undefined ? {} : { replaced }),
    }
  }

  stop(): { runId: string; settlingUntil: number } {
    const run = this.#run
    if (!run || run.status !== 'active')
      throw new SimError(
        SimErrorCode.noActiveScenario,
        run
          ? `scenario "${run.def.info.id}" (${run.runId}) is already ${run.status}`
          : 'no scenario is active',
      )
    this.#startSettling(run)
    return { runId: run.runId, settlingUntil: run.settledBy }
  }

  transition(runId: string, to: 'settling' | 'settled'): boolean {
    const run = this.#run
    if (!run || run.runId !== runId) return false
    if (to === 'settling') {
      if (run.status !== 'active') return false
      this.#startSettling(run)
      return true
    }
    if (run.status !== 'settling') return false
    const now = this.#port.now
    this.#endRun(run, now)
    this.#recompose(now)
    return true
  }

  /** Settles `run` at `now`: whatever of it is still pending or running ends here (the caller recomposes). */
  #endRun(run: Run, now: number): void {
    run.status = 'settled'
    run.settledAt = now
    run.settledBy = Math.min(run.settledBy, now)
    for (const r of this.#events) {
      if (r.event.runId !== run.runId || r.cancelled) continue
      if (r.event.window.start >= now && r.event.at > now) this.#cancel(r)
      else if (r.event.window.end > now) r.event.window.end = now
    }
  }

  status(): ScenarioStatus | null {
    const run = this.#run
    if (!run) return null
    const now = this.#port.now
    const s: ScenarioStatus = {
      runId: run.runId,
      id: run.def.info.id,
      name: run.def.info.name,
      status: run.status,
      startedAt: run.startedAt,
      activeUntil: run.activeUntil,
      settledBy: run.settledBy,
      nextTransition:
        run.status === 'active'
          ? { to: 'settling', at: run.activeUntil }
          : run.status === 'settling'
            ? { to: 'settled', at: run.settledBy }
            : null,
      deviation: this.#deviation(run, now),
      modifiers: this.activeModifiers().filter((m) => m.source === `scenario:${run.def.info.id}`),
    }
    if (run.settlingStartedAt !== undefined) s.settlingStartedAt = run.settlingStartedAt
    if (run.settledAt !== undefined) s.settledAt = run.settledAt
    return s
  }

  /**
   * Clears the scenario, the external events and the adjust_behavior modifiers
   * (setModifiers' own modifiers stay: they are the embedding code's, not the
   * control plane's).
   */
  reset(): void {
    this.#run = null
    this.#adjust = []
    this.#events = []
    this.#pending = []
    this.#tracker.clear()
    this.#recompose(this.#port.now)
  }

  inject(input: unknown): ExternalEvent {
    const rec = this.#addEvent(input, 'injected', undefined)
    this.#recompose(this.#port.now)
    return publicEvent(rec)
  }

  externalEvents(range?: { start?: number; end?: number }): ExternalEvent[] {
    const lo = range?.start ?? -Infinity
    const hi = range?.end ?? Infinity
    return this.#events
      .filter((r) => !r.cancelled && r.event.at >= lo && r.event.at <= hi)
      .map((r) => ({ ...publicEvent(r), actualImpact: this.#tracker.impacts(r) }))
  }

  correlations(q: CorrelationQuery): CorrelationAnswer {
    if (q === null || typeof q !== 'object')
      throw new SimError(SimErrorCode.badArgument, 'correlations: give { stream } or { event }')
    if ('event' in q && typeof q.event === 'string') {
      const rec = this.#events.find((r) => r.event.id === q.event && !r.cancelled)
      if (!rec) throw new SimError(SimErrorCode.unknownEvent, `unknown external event "${q.event}"`)
      return { query: { event: q.event }, results: this.#tracker.forEvent(rec) }
    }
    if ('stream' in q && typeof q.stream === 'string') {
      const s = this.#world.streamIndex.get(q.stream)
      if (s === undefined)
        throw new SimError(
          SimErrorCode.badArgument,
          `stream: "${q.stream}" is not a stream of world ${this.#world.id}`,
        )
      return {
        query: { stream: q.stream },
        results: this.#events
          .filter((r) => !r.cancelled)
          .flatMap((r) => this.#tracker.forEvent(r).filter((x) => x.stream === q.stream)),
      }
    }
    throw new SimError(
      SimErrorCode.badArgument,
      'correlations: give exactly one of { stream: <stream name> } or { event: <external event id> }',
    )
  }

  activeModifiers(): ActiveModifier[] {
    const now = this.#port.now
    const out: ActiveModifier[] = []
    for (const e of this.#entries(now)) {
      // setModifiers' own (tests, benchmarks): not part of the simulation state
      if (e.layer === 0 && e.adjustment === undefined) continue
      for (const m of [e]) {
        const v = m.mod.value
        const r = m.strength
        const a = m.adjustment
        out.push({
          source: m.source,
          stream: m.mod.stream,
          type: m.mod.type,
          target: m.mod.target,
          value:
            r === 1 || m.mod.type === 'override'
              ? v
              : m.mod.type === 'multiplier'
                ? 1 + (v - 1) * r
                : v * r,
          declaredValue: v,
          strength: r,
          status: m.status,
          remainingMs: m.until === Infinity ? null : Math.max(0, m.until - now),
          ...(m.role === undefined ? {} : { role: m.role }),
          ...(a === undefined
            ? {}
            : {
                id: a.id,
                startTime: iso(a.start),
                endsAt: a.end === Infinity ? null : iso(a.end),
                description: `manual: ${describeModifier(a.mod)}`,
              }),
        })
      }
    }
    // what is scheduled but not in effect yet: cascades, event windows
    const run = this.#run
    if (run && run.status === 'active') {
      for (const c of run.def.cascades) {
        const at = run.startedAt + c.startMs
        if (at <= now) continue
        for (const m of c.modifiers)
          out.push(
            pendingModifier(
              `scenario:${run.def.info.id}`,
              m,
              run.settledBy - now,
              `cascade:${c.id}`,
            ),
          )
      }
    }
    for (const r of this.#events) {
      if (
        r.cancelled ||
        r.event.redHerring ||
        r.event.window.start <= now ||
        r.event.window.end <= r.event.window.start
      )
        continue
      for (const m of r.mods)
        out.push(pendingModifier(`external:${r.event.id}`, m, r.event.window.end - now))
    }
    return out
  }

  // --- engine hooks ---------------------------------------------------------

  /** The next time after `after` when something changes (Infinity: none). */
  nextBreakpoint(after: number): number {
    let next = Infinity
    const consider = (t: number): void => {
      if (t > after && t < next) next = t
    }
    const run = this.#run
    if (run && run.status === 'active')
      for (const c of run.def.cascades) consider(run.startedAt + c.startMs)
    if (run && run.status === 'settling') {
      const s = run.settlingStartedAt!
      const settleMs = run.def.info.settleMs
      const end = s + settleMs
      if (end > after) {
        const step = settleStepMs(settleMs)
        const k = Math.max(1, Math.floor((after - s) / step) + 1)
        consider(Math.min(s + k * step, end))
        consider(end)
      }
    }
    for (const r of this.#events) {
      if (r.cancelled) continue
      if (!r.announced) consider(r.event.at)
      consider(r.event.window.start)
      consider(r.event.window.end)
    }
    for (const a of this.#adjust) consider(a.end)
    return next
  }

  /** Called by the engine at a breakpoint, after every item due by `t` ran. */
  breakpoint(t: number, out: SimEvent[]): void {
    for (const r of this.#events) {
      if (!r.cancelled && !r.announced && r.event.at === t) {
        r.announced = true
        out.push(announcement(r, t))
      }
    }
    if (this.#adjust.some((a) => a.end <= t)) this.#adjust = this.#adjust.filter((a) => a.end > t)
    this.#recompose(t)
  }

  /** Announcements of events injected at or before the current time, emitted first by the next advance. */
  flush(out: SimEvent[]): void {
    if (this.#pending.length === 0) return
    const now = this.#port.now
    for (const r of this.#pending) if (!r.cancelled) out.push(announcement(r, now))
    this.#pending = []
  }

  // --- internals ------------------------------------------------------------

  #addEvent(input: unknown, source: string, runId: string | undefined): EventRecord {
    return this.#commitEvent(
      resolveEventInput(this.#world, this.#set.templateById, input, this.#port.now),
      source,
      runId,
    )
  }

  #commitEvent(
    { event, mods }: ReturnType<typeof resolveEventInput>,
    source: string,
    runId: string | undefined,
  ): EventRecord {
    const now = this.#port.now
    const full: ExternalEvent = { id: `evt_${++this.#eventSeq}`, ...event, source }
    if (runId !== undefined) full.runId = runId
    const rec: EventRecord = {
      event: full,
      mods,
      tracked: trackedStreams(this.#world, full.expectedImpact),
      cancelled: false,
      announced: false,
    }
    if (full.at <= now) {
      rec.announced = true
      this.#pending.push(rec)
    }
    this.#events.push(rec)
    return rec
  }

  #cancel(r: EventRecord): void {
    r.cancelled = true
    this.#tracker.drop(r)
  }

  #startSettling(run: Run): void {
    const now = this.#port.now
    run.status = 'settling'
    run.settlingStartedAt = now
    run.activeUntil = now
    run.settledBy = now + run.def.info.settleMs
    // the scenario's script ends: its events still to come are cancelled
    for (const r of this.#events)
      if (r.event.runId === run.runId && !r.cancelled && r.event.at > now) this.#cancel(r)
    this.#recompose(now)
  }

  #deviation(run: Run, t: number): number {
    if (run.status === 'settled') return 0
    let r = 1
    if (run.status === 'settling')
      r = settleStrength(
        run.def.info.settleCurve,
        run.def.info.settleMs,
        run.def.maxDeviation,
        t - run.settlingStartedAt!,
      )
    else if (
      run.def.modifiers.length === 0 &&
      run.def.cascades.every((c) => run.startedAt + c.startMs > t)
    )
      r = 0
    return run.def.maxDeviation * r
  }

  /** Every modifier in effect at `t`, in application order. */
  #entries(t: number): TaggedEntry[] {
    const out: TaggedEntry[] = []
    for (const m of this.#manual)
      out.push({
        mod: m.mod,
        source: m.cause ?? 'manual',
        cause: m.cause,
        layer: 0,
        strength: 1,
        role: undefined,
        until: Infinity,
        status: 'active',
      })
    for (const a of this.#adjust) {
      if (!(a.start <= t && t < a.end)) continue
      const src = `manual:${a.id}`
      out.push({
        mod: a.mod,
        source: src,
        cause: src,
        layer: 0,
        strength: 1,
        role: undefined,
        until: a.end,
        status: 'active',
        adjustment: a,
      })
    }
    const run = this.#run
    if (run && run.status !== 'settled') {
      const src = `scenario:${run.def.info.id}`
      const push = (
        mods: readonly CompiledModifier[],
        strength: number,
        role: string,
        status: 'active' | 'settling',
      ): void => {
        for (const mod of mods)
          out.push({
            mod,
            source: src,
            cause: src,
            layer: 1,
            strength,
            role,
            until: run.settledBy,
            status,
          })
      }
      if (run.status === 'active') {
        push(run.def.modifiers, 1, 'direct', 'active')
        for (const c of run.def.cascades)
          if (run.startedAt + c.startMs <= t) push(c.modifiers, 1, `cascade:${c.id}`, 'active')
      } else {
        const s = run.settlingStartedAt!
        const info = run.def.info
        const r = settleStrength(info.settleCurve, info.settleMs, run.def.maxDeviation, t - s)
        if (r > 0) {
          push(run.def.modifiers, r, 'direct', 'settling')
          for (const c of run.def.cascades)
            if (run.startedAt + c.startMs <= s) push(c.modifiers, r, `cascade:${c.id}`, 'settling')
        }
        const b = backlogStrength(info.settleMs, t - s)
        if (b > 0) push(run.def.backlog, b, 'backlog', 'settling')
      }
    }
    for (const r of this.#events) {
      const e = r.event
      if (r.cancelled || e.redHerring || !(e.window.start <= t && t < e.window.end)) continue
      const src = `external:${e.id}`
      for (const mod of r.mods)
        out.push({
          mod,
          source: src,
          cause: src,
          layer: 2,
          strength: 1,
          role: undefined,
          until: e.window.end,
          status: 'active',
        })
    }
    return out
  }

  /** Recomposes the layers at `t` and hands the result to the engine and the tracker. */
  #recompose(t: number): void {
    const entries = this.#entries(t)
    const conflicts: ModifierConflict[] = []
    const params = composeParams(this.#world, entries, conflicts)
    const chainP = chainProbabilities(this.#world, params)
    this.#conflicts = conflicts
    this.#entryCount = entries.length
    this.#tracker.change(t, entries, params, chainP, this.#events)
    this.#port.applyParams(params, chainP)
  }
}

function pendingModifier(
  source: string,
  m: CompiledModifier,
  remainingMs: number,
  role?: string,
): ActiveModifier {
  return {
    source,
    stream: m.stream,
    type: m.type,
    target: m.target,
    value: m.type === 'multiplier' ? 1 : m.type === 'override' ? m.value : 0,
    declaredValue: m.value,
    strength: 0,
    status: 'pending',
    remainingMs: Math.max(0, remainingMs),
    ...(role === undefined ? {} : { role }),
  }
}

export function publicEvent(r: EventRecord): ExternalEvent {
  const e = r.event
  const out: ExternalEvent = {
    ...e,
    expectedImpact: { ...e.expectedImpact, streams: [...e.expectedImpact.streams] },
    modifiers: e.modifiers.map((m) => ({ ...m })),
    window: { ...e.window },
  }
  delete out.actualImpact
  return out
}

/** The event announcing an external event on the `external` channel. */
function announcement(r: EventRecord, ts: number): SimEvent {
  const data = publicEvent(r) as unknown as Record<string, unknown>
  return {
    ts,
    stream: 'external.event',
    channel: 'external',
    data,
    normalizedValue: 50,
    anomalyFlag: 'normal',
    causes: r.event.source.startsWith('scenario:') ? [r.event.source] : [],
  }
}
