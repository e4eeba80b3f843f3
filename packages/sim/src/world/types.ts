/**
 * The compiled world's types (a leaf: the loader, the engine, the scenario layer
 * and the history model all import them; it imports no runtime code).
 */
import type { TObject, TSchema } from 'typebox'
import type {
  AnomalyFlag,
  AnomalyRule,
  SignalKind,
  ExpectedImpact,
  ExternalEventCategory,
  ExternalEventOverrides,
  Kpi,
  Milestone,
  ModifierTarget,
  ModifierType,
  Severity,
  StreamModifier,
  BaselineMetricsFile,
  StreamCadencesFile,
  StreamConfig,
  StreamInfo,
  StreamRelationshipsFile,
  StreamsFile,
} from '@verisim/schema'
import type { Sampler } from '../distributions.js'
import type { CompiledPeriod, CompiledProfile, RateModel } from '../rates.js'
import type { Rng } from '../rng.js'
import type { Snapshottable } from '../state-codec.js'

/** The validated JSON of a world, one property per file. */
export interface WorldConfig {
  readonly streams: StreamsFile
  readonly baseline: BaselineMetricsFile
  readonly relationships: StreamRelationshipsFile
  readonly cadences: StreamCadencesFile
  /** `scenario-definitions.json` when present (validated by the scenario engine). */
  readonly scenarios?: unknown
  /** `external-events-library.json` when present (validated by the external-events engine). */
  readonly externalEvents?: unknown
}

/** Baseline statistics of a stream's primary value, the reference of normalization. */
export interface StreamBaseline {
  readonly field: string
  readonly mean: number
  readonly sd: number
  /** `analytic` from the distribution's parameters, `sampled` from a fixed-seed sample (clamped distributions), `declared` in the config (values observed from the simulation state). */
  readonly source: 'analytic' | 'sampled' | 'declared'
}

/**
 * The kernel's anomaly rule where a world's streams.json says nothing (docs/SIGNAL.md):
 * calibrated on the tutoring world so a quiet week flags under 2 % of events warning
 * and under 0.2 % critical, on any seed.
 */
export const DEFAULT_ANOMALY_RULE: Readonly<Required<AnomalyRule>> = {
  warningSigma: 3,
  criticalSigma: 5,
  hysteresisSigma: 1,
  tolerance: 0.04,
  valueTolerance: 0.1,
  windowEvents: 30,
  maxWindowMinutes: 240,
}

/** How a stream's events arrive on their own: `state` arrivals take their base rate from the world's state. */
export const ArrivalKind = { none: 0, poisson: 1, periodic: 2, state: 3 } as const
/** Anchor 0 is the trigger's time; others are the world module's anchors (`WorldOutcome.anchorSpec`). */
export const Anchor = { trigger: 0 } as const

export interface WorldOutcome {
  readonly stream: number
  readonly probability: number
  /** 0: the trigger's time; otherwise the world module's anchor `anchorSpec`. */
  readonly anchor: number
  readonly anchorSpec: AnchorSpec | undefined
  /** Delay in hours. */
  readonly delay: Sampler<number>
  /** Supply/demand correlation applied to this outcome's probability. */
  readonly supply:
    { readonly elasticity: number; readonly floor: number; readonly cap: number } | undefined
}

export interface WorldChain {
  readonly id: string
  readonly trigger: number
  readonly when:
    | {
        readonly field: string
        readonly eq?: string | number | boolean
        readonly lte?: number
        readonly gte?: number
      }
    | undefined
  readonly oneOf: boolean
  readonly complete: boolean
  readonly outcomes: readonly WorldOutcome[]
}

/** A stream compiled for the engine. */
export interface WorldStream {
  readonly index: number
  readonly name: string
  readonly domain: string
  readonly channel: string
  readonly cadence: StreamConfig['cadence']
  readonly unit: string
  readonly description: string
  readonly behavior: string
  readonly contract: BehaviorContract
  readonly actors: readonly string[]
  readonly arrivalKind: number
  /** `state` arrivals: the world module's rate. */
  readonly stateRate: StateRateSpec | undefined
  readonly perDay: number
  readonly profile: number
  readonly everyMs: number
  readonly jitterMs: number
  readonly valueField: string
  readonly valueSampler: Sampler<number> | undefined
  readonly baseline: StreamBaseline
  readonly fields: readonly { readonly name: string; readonly sample: Sampler<unknown> }[]
  /** What its signal watches (docs/SIGNAL.md). */
  readonly signalKind: SignalKind
  /** Its anomaly rule: its own fields over the world's over {@link DEFAULT_ANOMALY_RULE}. */
  readonly anomaly: Readonly<Required<AnomalyRule>>
  /** Chains this stream triggers. */
  readonly chains: readonly WorldChain[]
  readonly config: StreamConfig
}

export interface World {
  readonly id: string
  readonly dir: string
  /** The world module this config belongs to. */
  readonly module: WorldModule
  /** The module's compiled config (`WorldModule.compile`). */
  readonly ext: unknown
  /**
   * SHA-256 of the module id and every config file as parsed (hex): a snapshot or
   * a control log recorded against another config is refused with it.
   */
  readonly hash: string
  /** Channels in order of first use by a stream. */
  readonly channels: readonly string[]
  readonly config: WorldConfig
  readonly streams: readonly WorldStream[]
  readonly streamIndex: ReadonlyMap<string, number>
  /** `GET /api/streams`: name, domain, channel, cadence, unit, description. */
  readonly catalog: readonly StreamInfo[]
  readonly profiles: readonly CompiledProfile[]
  readonly periods: readonly CompiledPeriod[]
  readonly baseline: Readonly<Record<string, StreamBaseline>>
  /** Profile index by name (for modules that refer to profiles from their config). */
  readonly profileIndex: ReadonlyMap<string, number>
  /** Scenarios and external-event templates (empty when the world has no such files). */
  readonly scenarioSet: ScenarioSet
}

// ---------------------------------------------------------------------------
// The engine's output

/** One generated event (the envelope minus `id`, `world` and the ISO timestamp, which the generator adds). */
export interface SimEvent {
  /** Simulation time, epoch ms UTC. */
  ts: number
  stream: string
  /** The stream's domain: customer | tutor | session | support | marketing | system. */
  channel: string
  /** Entity ids and the stream's fields, including its primary value. */
  data: Record<string, unknown>
  /** 0–100: 50 = baseline mean, 30/70 = ∓1σ, 0/100 = ∓3σ, clamped; one decimal. */
  normalizedValue: number
  anomalyFlag: AnomalyFlag
  /** Ground truth: the `cause` of every modifier that shaped this event. */
  causes: string[]
}

/**
 * A change to the baseline, as a scenario or an external event applies it.
 * `stream` is an exact stream name, a domain wildcard (`session.*`) or `*`.
 * `multiplier` scales the stream's arrival rate and its probability as a chain
 * outcome (periodic streams keep their period; 0 silences them); `valueMultiplier`
 * scales its primary value (and so its normalized value). Several modifiers on one
 * stream multiply.
 */
export interface RateModifier {
  stream: string
  multiplier?: number
  valueMultiplier?: number
  /** Recorded in `causes` of the affected events, e.g. `scenario:payment-outage`. */
  cause?: string
}

// ---------------------------------------------------------------------------
// Compiled scenarios, external-event templates and modifiers

export type SettleCurve = 'linear' | 'exponential' | 'immediate'

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

/** A modifier checked against a world, its pattern resolved to stream indices. */
export interface CompiledModifier {
  /** As declared: an exact stream name, `domain.*` or `*`. */
  readonly stream: string
  readonly streams: readonly number[]
  readonly type: ModifierType
  readonly target: ModifierTarget
  readonly value: number
  readonly precedence: number | undefined
  readonly description: string | undefined
  /** Largest relative distance from baseline it causes on a matched stream (|multiplier − 1|, additive / baseline …). */
  readonly deviation: number
  /** The declaration (for reports). */
  readonly spec: StreamModifier
}

/** A library template, checked against the world. */
export interface CompiledTemplate {
  readonly id: string
  readonly category: ExternalEventCategory
  readonly title: string
  readonly description: string
  readonly severity: Severity
  readonly icon: string
  readonly expectedImpact: ExpectedImpact
  readonly modifiers: readonly CompiledModifier[]
  readonly redHerring: boolean
  readonly timing: string | undefined
  readonly externalLink: string | undefined
}

// ---------------------------------------------------------------------------
// The world kit: what a world module supplies (kit/module.ts re-exports these)

/** The context a chain carries from its trigger to its outcomes (`none` for arrivals). */
export type ContextKind = string

export interface BehaviorContract {
  /** Contexts the behaviour can run with (`none` = on its own, as an arrival); `any` for all. */
  readonly accepts: readonly ContextKind[] | 'any'
  /** Context it hands to the chains it triggers. */
  readonly gives: ContextKind
  /** Whether the primary value comes from the simulation state (`observed` in streams.json). */
  readonly observes: 'yes' | 'no' | 'either'
}

/** What the kernel exposes to a behaviour while one event is being built. */
export interface Host<S = unknown> {
  readonly world: World
  /** The world's own state (what {@link WorldModule.init} returned). */
  readonly state: S
  /** The rate model (seasonality profiles, calendar, growth) of the run. */
  readonly rates: RateModel
  /** The firing stream's random sub-stream. */
  rng: Rng
  /** The primary value: pre-drawn from the stream's distribution (NaN when observed); behaviours may set it. */
  value: number
  /** Context handed to the chains this event triggers. */
  child: unknown
}

/**
 * Builds one event's `data` (ids first; the kernel then adds the configured
 * fields and the primary value), or `null` to skip the event when its
 * precondition fails. `trigger` is the index of the stream whose chain scheduled
 * it (−1 for an arrival).
 */
export type Behavior<S = unknown> = (
  h: Host<S>,
  s: WorldStream,
  ctx: unknown,
  t: number,
  trigger: number,
) => Record<string, unknown> | null

/**
 * One field a behaviour puts in its events' `data`. `id` is an entity id (a
 * string; its entity is the one whose `idField` in stream-relationships.json has
 * the field's name).
 */
export interface DataFieldSpec {
  readonly type: 'id' | 'string' | 'number' | 'boolean'
  /** The only values it takes, when the world knows them (cohorts, segments …). */
  readonly values?: readonly (string | number | boolean)[]
  /** Set on some events only (absent or `undefined` on the others). */
  readonly optional?: boolean
  /** Unit of a number (`USD`, `minutes`, `epoch ms` …). */
  readonly unit?: string
  readonly description?: string
}

/** The fields a behaviour returns in `data`, in the order it sets them. */
export type DataSpec = Readonly<Record<string, DataFieldSpec>>

export interface BehaviorSpec<S = unknown> {
  readonly contract: BehaviorContract
  readonly run: Behavior<S>
  /**
   * The fields `run` returns (the kernel then adds the configured fields and the
   * primary value), for generated types (`verisim types`) and docs; a function when
   * they depend on the world's config or the stream. Unset: unknown, and consumers
   * must expect any field.
   */
  readonly data?: DataSpec | ((world: World, stream: WorldStream) => DataSpec)
}

/**
 * A chain anchor other than `trigger`: outcomes scheduled relative to a time the
 * trigger's context carries (tutoring: a session's `start` and `end`).
 */
export interface AnchorSpec {
  /** The context kind the trigger must hand on for this anchor. */
  readonly context: ContextKind
  /** The anchor time of a context (epoch ms). */
  readonly at: (ctx: unknown) => number
  /**
   * Mean field: the anchor's offset from the context's start for one random
   * context (ms), or null when the anchor is the start itself (no draw).
   */
  readonly offset: ((world: World, rng: Rng) => number) | null
}

/**
 * A state-dependent arrival (`arrival: {kind: "state", rate: "<name>"}`): a Poisson
 * process whose base rate comes from the world's state, shaped by the stream's
 * seasonality profile and modifiers.
 */
export interface StateRateSpec<S = unknown> {
  /** Behaviours a stream with this arrival may have (empty: any). */
  readonly behaviors: readonly string[]
  /** Base rate per ms from the current state. */
  readonly rate: (state: S, world: World, stream: WorldStream) => number
  /** Mean-field base rate per ms from the config alone (history, correlations, modifier checks). */
  readonly expected: (world: World, stream: WorldStream) => number
}

/** Mean-field hooks the history model (the 30-day baseline) needs from a world. */
export interface MeanFieldHooks {
  /**
   * The stream (by behaviour) whose events create the contexts that non-trigger
   * anchors refer to, and where those contexts start given the expected counts of
   * that stream per bucket.
   */
  readonly anchored?: {
    readonly behavior: string
    readonly minLeadMs: (world: World) => number
    readonly maxLeadMs: (world: World) => number
    /** Expected context starts per bucket (`M` of them) from the expected counts `req` of the creating stream. */
    readonly starts: (
      world: World,
      rates: RateModel,
      req: Float64Array,
      t0: number,
      M: number,
      bucketMs: number,
    ) => Float64Array
  }
  /** P(field = eq) for a chain's `when` on a field only the behaviour sets (undefined: unknown). */
  readonly fieldShare?: (world: World, field: string, eq: unknown) => number | undefined
}

/** The result of a world action: what the caller is told (JSON). */
export type ActionResult = Record<string, unknown>

/**
 * A world action (`world_action {name, payload}`): a command validated against
 * `payload`, logged and replayed like every other command.
 */
export interface WorldActionSpec<S = unknown> {
  readonly description: string
  /** TypeBox schema of the payload (closed objects). */
  readonly payload: TSchema
  /**
   * Applies the action at simulation time `t`. Throws a `SimError` with code
   * `VS_SIM_BAD_ARGUMENT` naming the field for a payload that cannot apply.
   */
  readonly apply: (h: Host<S>, payload: never, t: number) => ActionResult
}

/** The world as `GET /api/world` describes it. */
export interface WorldDescription {
  readonly id: string
  readonly model: 'chain' | 'agent'
  readonly description: string
  readonly channels: readonly string[]
  readonly streams: readonly {
    readonly name: string
    readonly channel: string
    readonly domain: string
    readonly cadence: string
    readonly unit: string
    readonly behavior: string
  }[]
  /** Persona segments of an agent world (empty for chain worlds). */
  readonly segments: readonly {
    readonly id: string
    readonly name: string
    readonly agents?: number
  }[]
  readonly actions: readonly {
    readonly name: string
    readonly description: string
    readonly payload: unknown
  }[]
  readonly entityFields?: readonly string[]
  readonly milestones?: readonly Milestone[]
  readonly kpis?: readonly Kpi[]
  /** Keys of `stats().world`. */
  readonly statsKeys: readonly string[]
  readonly warmupHours: number
}

/**
 * A world module. `S` is its state, `C` the compiled form of its own config
 * (the extra properties of baseline-metrics.json it declares).
 */
export interface WorldModule<S = unknown, C = unknown> {
  readonly id: string
  readonly model: 'chain' | 'agent'
  readonly description: string
  /** Simulated hours the generator runs before going live, so live data continues the history without a seam. */
  readonly warmupHours: number
  /**
   * Extra top-level properties of baseline-metrics.json this world needs
   * (TypeBox property schemas, merged into the kernel's closed object).
   */
  readonly baselineProperties?: TObject['properties']
  /**
   * Compiles and cross-checks the module's config once the kernel's part is
   * compiled; `fail(path, expected, found)` reports a problem in
   * baseline-metrics.json with its JSON path. The result is `World.ext`.
   */
  readonly compile: (
    world: World,
    fail: (path: string, expected: string, found?: unknown) => never,
  ) => C
  readonly behaviors: Readonly<Record<string, BehaviorSpec<S>>>
  /**
   * Actors a `generic` stream may name (`actors` in streams.json): each picks an
   * existing entity and returns its id (set as `field`), or null when none exists (the event
   * is skipped).
   */
  readonly actors: Readonly<
    Record<string, { readonly field: string; readonly pick: (h: Host<S>) => string | null }>
  >
  readonly anchors: Readonly<Record<string, AnchorSpec>>
  readonly stateRates: Readonly<Record<string, StateRateSpec<S>>>
  /** External-event categories this world's library may use. */
  readonly categories: readonly string[]
  /** Calendar period kinds (baseline-metrics.json `seasonality.calendar[].kind`). */
  readonly calendarKinds: readonly string[]
  readonly meanField?: MeanFieldHooks
  /**
   * Supply/demand correlations (`correlations` of kind `supply`): the current
   * supply against the initial one (the kernel scales the latter by growth).
   */
  readonly supply?: {
    readonly current: (state: S) => number
    readonly initial: (state: S) => number
  }
  /** The state at `start` for `seed` (the initial population). */
  readonly init: (world: World, seed: number, start: number) => S
  /** Figures of the state for `stats().world` (JSON). */
  readonly stats: (state: S, world: World) => Record<string, unknown>
  readonly actions?: Readonly<Record<string, WorldActionSpec<S>>>
  /** The baseline paragraph of docs/streams.md (initial population, growth …); default: the growth. */
  readonly docBaseline?: (world: World) => string
  /** Persona segments (agent worlds). */
  readonly segments?: (world: World) => WorldDescription['segments']
  /**
   * The classes of the world's own whose instances its state holds (besides plain
   * objects, arrays, Maps, Sets, typed arrays and the kernel's Rng, Fenwick,
   * AgentPopulation and Cooldown): each with a static `[SNAPSHOT]`
   * (a `SnapshotClass`), so engine snapshots can save and load them.
   */
  readonly snapshotClasses?: readonly Snapshottable[]
  /**
   * Fields of events' `data` that name an entity (a student, a diner, a node):
   * the archive indexes events by their values for journeys and lookups.
   * Undefined: every field whose name ends in `Id`.
   */
  readonly entityFields?: readonly string[]
  /** Milestones of an entity's journey over the archive (first search, first booking, churn …). */
  readonly milestones?: readonly Milestone[]
  /** Key figures over the archive (`GET /api/metrics/aggregate`): counts and ratios of streams. */
  readonly kpis?: readonly Kpi[]
}
