/**
 * Scenarios: their definitions (`scenario-definitions.json`, validated at load
 * against the world and the external-event library) and the controller that runs
 * them inside the engine together with external events and `setModifiers`.
 *
 * Lifecycle `active → settling → settled`, one scenario at a time (a new one may
 * start once the previous one has settled). The transitions are commands: the
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
import type {
  ExternalEventOverrides,
  ModifierTarget,
  ModifierType,
  ScenarioDefinitionsFile,
  StreamModifier,
} from '@verisim/schema'
import { MINUTE } from './calendar.js'
import {
  CorrelationTracker,
  type CorrelationAnswer,
  type CorrelationQuery,
  type SimPort,
} from './correlations.js'
import { formatIsoDuration, parseIsoDuration } from './durations.js'
import { SimError, SimErrorCode, WorldConfigError } from './errors.js'
import {
  checkImpact,
  compileLibrary,
  resolveEventInput,
  templateInfo,
  trackedStreams,
  type CompiledTemplate,
  type EventRecord,
  type ExternalEvent,
  type LibraryProblem,
  type TemplateInfo,
} from './external.js'
import {
  chainProbabilities,
  compileModifier,
  composeParams,
  isProblem,
  patternCovers,
  type CompiledModifier,
  type ModifierConflict,
  type ModifierEntry,
} from './modifiers.js'
import type { SimEvent } from './engine.js'
import type { World } from './world/load.js'

export type SettleCurve = 'linear' | 'exponential' | 'immediate'
export type ScenarioPhase = 'active' | 'settling' | 'settled'

/** What `scenarios()` lists. */
export interface ScenarioInfo {
  id: string
  name: string
  description: string
  /** Active phase, ISO 8601. */
  duration: string
  durationMs: number
  settleCurve: SettleCurve
  /** Settlement, ISO 8601 and ms. */
  settleDuration: string
  settleMs: number
}

/** A modifier in effect (or about to be), for `SimulationState.activeModifiers`. */
export interface ActiveModifier {
  /** `scenario:<id>`, `external:<eventId>` or `manual:<id>` (adjust_behavior). */
  source: string
  /** As declared: exact name, `domain.*` or `*`. */
  stream: string
  type: ModifierType
  target: ModifierTarget
  /** In effect now: a multiplier v at strength r is 1 + (v − 1)·r, an additive or shift v·r, an override v (blended with baseline by r). */
  value: number
  declaredValue: number
  /** 1 while active, the settlement curve while settling, 0 while pending. */
  strength: number
  status: 'active' | 'settling' | 'pending'
  /** Until it stops shaping events (for an active scenario: until its estimated settlement); null for a manual modifier without a duration. */
  remainingMs: number | null
  /** Scenario modifiers: `direct`, `cascade:<id>` or `backlog`. */
  role?: string
  /** Manual modifiers (adjust_behavior): their id. */
  id?: string
  /** Manual modifiers: when they took effect and when they end (ISO 8601; null: until cleared or reset). */
  startTime?: string
  endsAt?: string | null
  /** Manual modifiers: what they do, e.g. `customer.tutor.search rate ×1.5`. */
  description?: string
}

/** What `Engine.adjustBehavior` takes: the payload of the control action `adjust_behavior`. */
export interface BehaviorAdjustmentInput {
  /** An exact stream name, `<domain>.*` or `*`. */
  stream: string
  type: ModifierType
  /** Defaults to `rate` (`probability` for a probabilityShift). */
  target?: ModifierTarget
  value: number
  /** ISO 8601 (e.g. `PT2H`); absent: until cleared or reset. */
  duration?: string
  /** Defaults to `mod_<n>`; an id in use replaces that modifier. */
  id?: string
}

/** A manual modifier added by `adjustBehavior` (adjust_behavior). */
export interface BehaviorAdjustment {
  id: string
  /** `manual:<id>`: its source in activeModifiers and its cause in events. */
  cause: string
  stream: string
  type: ModifierType
  target: ModifierTarget
  value: number
  /** As given (ISO 8601); null: until cleared or reset. */
  duration: string | null
  /** Simulation time it took effect, ISO 8601 and epoch ms. */
  startTime: string
  startMs: number
  /** Simulation time it ends, ISO 8601 and epoch ms; null without a duration. */
  endsAt: string | null
  endMs: number | null
}

export interface ScenarioActivation {
  scenario: ScenarioInfo
  runId: string
  /** The external events the scenario injected. */
  events: ExternalEvent[]
  /** Active + settlement, ISO 8601. */
  estimatedDuration: string
  activeUntil: number
  settledBy: number
  /** Modifier conflicts at activation (several sources on one parameter). */
  warnings: ModifierConflict[]
}

export interface ScenarioStatus {
  runId: string
  id: string
  name: string
  status: ScenarioPhase
  startedAt: number
  settlingStartedAt?: number
  settledAt?: number
  /** Planned end of the active phase and end of settlement (updated when stopped early). */
  activeUntil: number
  settledBy: number
  nextTransition: null | { to: 'settling' | 'settled'; at: number }
  /** Largest relative distance from baseline of the scenario's own modifiers right now (0 = baseline). */
  deviation: number
  modifiers: ActiveModifier[]
}

export interface CompiledCascade {
  readonly id: string
  readonly description: string
  readonly trigger: string
  readonly delayMs: number
  /** Start after activation (its trigger's start + delay). */
  readonly startMs: number
  readonly modifiers: readonly CompiledModifier[]
}

export interface CompiledScenario {
  readonly info: ScenarioInfo
  readonly modifiers: readonly CompiledModifier[]
  readonly cascades: readonly CompiledCascade[]
  readonly backlog: readonly CompiledModifier[]
  readonly events: readonly {
    readonly templateId: string
    readonly offsetMs: number
    readonly overrides: ExternalEventOverrides | undefined
  }[]
  /** Largest deviation of its direct and cascade modifiers (calibrates the exponential curve). */
  readonly maxDeviation: number
}

/** The scenarios and the external-event library of a world (empty when the files are absent). */
export interface ScenarioSet {
  readonly scenarios: readonly CompiledScenario[]
  readonly byId: ReadonlyMap<string, CompiledScenario>
  readonly templates: readonly CompiledTemplate[]
  readonly templateById: ReadonlyMap<string, CompiledTemplate>
}

/** Settled means every modifier within this relative distance of baseline. */
export const SETTLED_WITHIN = 0.05

// ---------------------------------------------------------------------------
// load time

/** Checks a file against its schema (ScenarioDefinitionsFileSchema / ExternalEventsLibraryFileSchema); the loader reports schema errors its own way. */
export type SchemaProblemFn = (
  file: 'scenarios' | 'externalEvents',
  raw: unknown,
) => LibraryProblem | undefined

/**
 * Validates and compiles the optional scenario and library files of a world.
 * Throws {@link WorldConfigError} naming the file, the JSON path and the rule.
 */
export function compileScenarioSet(
  world: Pick<World, 'streams' | 'module' | 'config' | 'id'>,
  raw: { scenarios?: unknown; externalEvents?: unknown },
  files: { scenarios: string; externalEvents: string },
  schemaProblem: SchemaProblemFn,
): ScenarioSet {
  const fail = (file: string, p: LibraryProblem): never => {
    throw new WorldConfigError(
      SimErrorCode.worldInvalid,
      file,
      p.path,
      p.rule,
      p.found === undefined ? undefined : show(p.found),
    )
  }
  let templates: CompiledTemplate[] = []
  if (raw.externalEvents !== undefined) {
    const lib = compileLibrary(world, raw.externalEvents, (x) => schemaProblem('externalEvents', x))
    if (!Array.isArray(lib)) fail(files.externalEvents, lib)
    templates = lib as CompiledTemplate[]
  }
  const templateById = new Map(templates.map((t) => [t.id, t]))
  const scenarios: CompiledScenario[] = []
  if (raw.scenarios !== undefined) {
    const sp = schemaProblem('scenarios', raw.scenarios)
    if (sp) fail(files.scenarios, sp)
    const file = raw.scenarios as ScenarioDefinitionsFile
    if (file.world !== world.id)
      fail(files.scenarios, {
        path: '/world',
        rule: `the world id of streams.json ("${world.id}")`,
        found: file.world,
      })
    const ids = new Set<string>()
    file.scenarios.forEach((d, i) => {
      const problem = (path: string, rule: string, found?: unknown): never =>
        fail(files.scenarios, { path: `/scenarios/${i}${path}`, rule, found })
      if (ids.has(d.id)) problem('/id', 'a scenario id not used before', d.id)
      ids.add(d.id)
      const durationMs = parseIsoDuration(d.duration)
      if (durationMs === undefined || durationMs <= 0)
        problem('/duration', 'a positive ISO 8601 duration (e.g. PT8H)', d.duration)
      const settleMs = parseIsoDuration(d.settlement.duration)
      if (settleMs === undefined)
        problem('/settlement/duration', 'an ISO 8601 duration (e.g. PT12H)', d.settlement.duration)
      if (d.settlement.curve === 'exponential' && settleMs === 0)
        problem(
          '/settlement/duration',
          'a positive duration for an exponential settlement',
          d.settlement.duration,
        )
      const mods = (list: readonly StreamModifier[], path: string): CompiledModifier[] =>
        list.map((spec, j) => {
          const m = compileModifier(world, spec)
          if (isProblem(m)) return problem(`${path}/${j}${m.path}`, m.rule, m.found)
          return m
        })
      const direct = mods(d.modifiers, '/modifiers')
      const backlog = mods(d.settlement.backlog ?? [], '/settlement/backlog')
      const cascadeMods = d.cascades.map((c, j) => mods(c.modifiers, `/cascades/${j}/modifiers`))
      // cascades: unique ids, triggers the scenario affects, no loops; start = trigger's start + delay
      const cids = new Set<string>()
      d.cascades.forEach((c, j) => {
        if (cids.has(c.id))
          problem(`/cascades/${j}/id`, 'a cascade id not used before in this scenario', c.id)
        cids.add(c.id)
        if (!world.streams.some((s) => s.name === c.trigger))
          problem(`/cascades/${j}/trigger`, `a stream of world ${world.id}`, c.trigger)
      })
      const affects = (ms: readonly CompiledModifier[], stream: string): boolean =>
        ms.some((m) => patternCovers(m.stream, stream))
      const feeds: number[][] = d.cascades.map((c) =>
        d.cascades.flatMap((_, k) => (affects(cascadeMods[k]!, c.trigger) ? [k] : [])),
      )
      d.cascades.forEach((c, j) => {
        if (!affects(direct, c.trigger) && feeds[j]!.length === 0)
          problem(
            `/cascades/${j}/trigger`,
            "a stream the scenario's modifiers or another cascade's modifiers change (a cascade follows from an effect)",
            c.trigger,
          )
      })
      // cycle: j is fed by k when k's modifiers touch j's trigger
      const state = d.cascades.map(() => 0)
      const visit = (j: number, path: number[]): void => {
        if (state[j] === 2) return
        if (state[j] === 1) {
          const loop = [...path.slice(path.indexOf(j)), j].map((k) => d.cascades[k]!.id)
          problem(
            `/cascades/${j}/trigger`,
            `cascades that do not loop (${loop.join(' → ')})`,
            d.cascades[j]!.trigger,
          )
        }
        state[j] = 1
        for (const k of feeds[j]!) visit(k, [...path, j])
        state[j] = 2
      }
      d.cascades.forEach((_, j) => visit(j, []))
      const starts: number[] = []
      const startOf = (j: number): number => {
        if (starts[j] !== undefined) return starts[j]!
        const c = d.cascades[j]!
        const delay =
          parseIsoDuration(c.delay) ??
          problem(`/cascades/${j}/delay`, 'an ISO 8601 duration', c.delay)
        let from = affects(direct, c.trigger) ? 0 : Infinity
        for (const k of feeds[j]!) from = Math.min(from, startOf(k))
        return (starts[j] = from + delay)
      }
      const cascades = d.cascades.map((c, j): CompiledCascade => {
        const startMs = startOf(j)
        if (startMs >= durationMs!)
          problem(
            `/cascades/${j}/delay`,
            `a cascade that starts within the scenario's duration (${d.duration}); it would start at +${formatIsoDuration(startMs)}`,
            c.delay,
          )
        return {
          id: c.id,
          description: c.description,
          trigger: c.trigger,
          delayMs: parseIsoDuration(c.delay)!,
          startMs,
          modifiers: cascadeMods[j]!,
        }
      })
      // events: known templates, valid overrides, impact over by the time the scenario has settled
      const events = d.events.map((e, j) => {
        const tpl = templateById.get(e.templateId)
        if (!tpl)
          problem(
            `/events/${j}/templateId`,
            `the id of a template in ${files.externalEvents}${templates.length === 0 ? ' (no library loaded)' : ` (one of ${[...templateById.keys()].join(', ')})`}`,
            e.templateId,
          )
        const offsetMs = parseIsoDuration(e.offset, { signed: true })
        if (offsetMs === undefined)
          problem(`/events/${j}/offset`, 'a signed ISO 8601 duration (e.g. PT2H, -PT3H)', e.offset)
        const ov = e.overrides
        const impact = { ...tpl!.expectedImpact, ...ov?.expectedImpact }
        const specs = ov?.modifiers ?? tpl!.modifiers.map((m) => m.spec)
        const checked = checkImpact(world, impact, specs, {
          streams: '/overrides/expectedImpact/streams',
          modifiers: '/overrides/modifiers',
        })
        if (!Array.isArray(checked))
          problem(`/events/${j}${checked.path}`, checked.rule, checked.found)
        const end = offsetMs! + parseIsoDuration(impact.delay)! + parseIsoDuration(impact.duration)!
        if (!(ov?.redHerring ?? tpl!.redHerring) && end > durationMs! + settleMs!)
          problem(
            `/events/${j}/offset`,
            `an event whose impact is over when the scenario has settled (by +${formatIsoDuration(durationMs! + settleMs!)}; this one lasts until +${formatIsoDuration(end)})`,
            e.offset,
          )
        return { templateId: e.templateId, offsetMs: offsetMs!, overrides: ov }
      })
      let maxDeviation = 0
      for (const m of [...direct, ...cascades.flatMap((c) => c.modifiers)])
        maxDeviation = Math.max(maxDeviation, m.deviation)
      scenarios.push({
        info: {
          id: d.id,
          name: d.name,
          description: d.description,
          duration: d.duration,
          durationMs: durationMs!,
          settleCurve: d.settlement.curve,
          settleDuration: d.settlement.duration,
          settleMs: settleMs!,
        },
        modifiers: direct,
        cascades,
        backlog,
        events,
        maxDeviation,
      })
    })
  }
  return { scenarios, byId: new Map(scenarios.map((s) => [s.info.id, s])), templates, templateById }
}

function show(v: unknown): string {
  const s = JSON.stringify(v)
  if (s === undefined) return String(v)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

// ---------------------------------------------------------------------------
// settlement curves (pure functions of time since settling started)

/** Step of the piecewise-constant settlement: 1–15 minutes, at most 24 steps when shorter. */
export function settleStepMs(settleMs: number): number {
  return Math.max(MINUTE, Math.min(15 * MINUTE, Math.round(settleMs / 24)))
}

/** Time constant of the exponential curve: the largest deviation reaches 5 % at `settleMs`. */
export function exponentialTau(settleMs: number, maxDeviation: number): number {
  return maxDeviation > SETTLED_WITHIN ? settleMs / Math.log(maxDeviation / SETTLED_WITHIN) : 0
}

/**
 * Strength of a settling scenario's modifiers `elapsed` ms after settling started:
 * constant over each step, evaluated at the step's midpoint; 0 from `settleMs` on.
 *
 * @example
 * settleStrength('linear', 8 * HOUR, 0, 4 * HOUR) // ≈ 0.48 (the step around 4 h)
 */
export function settleStrength(
  curve: SettleCurve,
  settleMs: number,
  maxDeviation: number,
  elapsed: number,
): number {
  if (elapsed >= settleMs || curve === 'immediate') return 0
  const step = settleStepMs(settleMs)
  const mid = Math.min((Math.floor(elapsed / step) + 0.5) * step, settleMs)
  if (curve === 'linear') return 1 - mid / settleMs
  const tau = exponentialTau(settleMs, maxDeviation)
  return tau > 0 ? Math.exp(-mid / tau) : 0
}

/** Strength of backlog modifiers: a linear fade over the settlement. */
export function backlogStrength(settleMs: number, elapsed: number): number {
  return settleStrength('linear', settleMs, 0, elapsed)
}

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
interface Adjustment {
  readonly id: string
  readonly mod: CompiledModifier
  readonly start: number
  readonly end: number
  readonly duration: string | null
}

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
    if (run && run.status !== 'settled')
      throw new SimError(
        SimErrorCode.scenarioActive,
        `scenario "${run.def.info.id}" (${run.runId}) is ${run.status}; stop it and wait until it has settled, or reset`,
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
    run.status = 'settled'
    run.settledAt = now
    run.settledBy = Math.min(run.settledBy, now)
    // whatever of the run is still pending or running ends here
    for (const r of this.#events) {
      if (r.event.runId !== runId || r.cancelled) continue
      if (r.event.window.start >= now && r.event.at > now) this.#cancel(r)
      else if (r.event.window.end > now) r.event.window.end = now
    }
    this.#recompose(now)
    return true
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

const iso = (ms: number): string => new Date(ms).toISOString()

const ADJUST_FIELDS = ['stream', 'type', 'target', 'value', 'duration', 'id'] as const
const MODIFIER_TYPES: readonly string[] = ['multiplier', 'additive', 'override', 'probabilityShift']
const MODIFIER_TARGETS: readonly string[] = ['rate', 'value', 'probability']
const ADJUST_ID = /^[A-Za-z0-9_.-]{1,64}$/

/** Checks an adjustBehavior input and compiles its modifier; throws `VS_SIM_BAD_ARGUMENT` naming the field. */
function resolveAdjustment(
  world: World,
  input: unknown,
): { mod: CompiledModifier; durationMs?: number; duration?: string; id?: string } {
  const bad = (field: string, rule: string, found?: unknown): never => {
    throw new SimError(
      SimErrorCode.badArgument,
      `${field}: expected ${rule}${found === undefined ? '' : `, found ${show(found)}`}`,
    )
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return bad('(root)', 'an object { stream, type, value, target?, duration?, id? }', input)
  const x = input as Record<string, unknown>
  for (const k of Object.keys(x))
    if (!(ADJUST_FIELDS as readonly string[]).includes(k))
      throw new SimError(
        SimErrorCode.badArgument,
        `${k}: unexpected field; the fields are ${ADJUST_FIELDS.join(', ')}`,
      )
  if (typeof x.stream !== 'string' || x.stream === '')
    bad('stream', 'a stream name, "<domain>.*" or "*"', x.stream)
  if (typeof x.type !== 'string' || !MODIFIER_TYPES.includes(x.type))
    bad('type', `one of ${MODIFIER_TYPES.map((t) => `"${t}"`).join(', ')}`, x.type)
  if (
    x.target !== undefined &&
    (typeof x.target !== 'string' || !MODIFIER_TARGETS.includes(x.target))
  )
    bad('target', `one of ${MODIFIER_TARGETS.map((t) => `"${t}"`).join(', ')}`, x.target)
  if (typeof x.value !== 'number') bad('value', 'a number', x.value)
  let durationMs: number | undefined
  if (x.duration !== undefined) {
    durationMs = typeof x.duration === 'string' ? parseIsoDuration(x.duration) : undefined
    if (durationMs === undefined || durationMs <= 0)
      bad('duration', 'a positive ISO 8601 duration (e.g. PT2H, PT30M, P1D)', x.duration)
  }
  if (x.id !== undefined && (typeof x.id !== 'string' || !ADJUST_ID.test(x.id)))
    bad('id', '1 to 64 letters, digits, "_", "-" or "."', x.id)
  const spec: StreamModifier = {
    stream: x.stream as string,
    type: x.type as ModifierType,
    value: x.value as number,
    ...(x.target === undefined ? {} : { target: x.target as ModifierTarget }),
  }
  const mod = compileModifier(world, spec)
  if (isProblem(mod)) return bad(mod.path.slice(1) || '(root)', mod.rule, mod.found)
  return {
    mod,
    ...(durationMs === undefined ? {} : { durationMs, duration: x.duration as string }),
    ...(x.id === undefined ? {} : { id: x.id as string }),
  }
}

function describeAdjustment(a: Adjustment): BehaviorAdjustment {
  return {
    id: a.id,
    cause: `manual:${a.id}`,
    stream: a.mod.stream,
    type: a.mod.type,
    target: a.mod.target,
    value: a.mod.value,
    duration: a.duration,
    startTime: iso(a.start),
    startMs: a.start,
    endsAt: a.end === Infinity ? null : iso(a.end),
    endMs: a.end === Infinity ? null : a.end,
  }
}

/** `customer.tutor.search rate ×1.5`, `support.ticket.created rate +4`, `… probability = 0.6`. */
function describeModifier(m: CompiledModifier): string {
  const op =
    m.type === 'multiplier'
      ? `×${m.value}`
      : m.type === 'override'
        ? `= ${m.value}`
        : m.value < 0
          ? `${m.value}`
          : `+${m.value}`
  return `${m.stream} ${m.target} ${op}`
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
