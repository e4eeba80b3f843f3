/**
 * The world kit: what a world module supplies to the kernel. A world is a
 * {@link WorldModule} (behaviour, state, rates that depend on the state, anchors,
 * mean-field hooks, stats, snapshot/restore, actions) plus its JSON config folder;
 * the kernel (event queue, breakpoints, emit with normalization and causes,
 * scenarios, modifiers, external events, correlations, history) knows no world and
 * reaches a world's specifics only through this interface.
 *
 * This module is a leaf: types only, imported by the kernel's other modules and by
 * worlds (`@verisim/sim` re-exports it), so nothing here may import the engine.
 */
import type { TObject, TSchema } from 'typebox'
import type { Rng } from '../rng.js'
import type { RateModel } from '../rates.js'
import type { World, WorldStream } from '../world/load.js'

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

export interface BehaviorSpec<S = unknown> {
  readonly contract: BehaviorContract
  readonly run: Behavior<S>
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
  readonly rate: (state: S, world: World) => number
  /** Mean-field base rate per ms from the config alone (history, correlations, modifier checks). */
  readonly expected: (world: World) => number
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
   * existing entity and returns `[field, id]`, or null when none exists (the event
   * is skipped).
   */
  readonly actors: Readonly<Record<string, (h: Host<S>) => readonly [string, string] | null>>
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
  readonly supply?: (state: S) => { readonly current: number; readonly initial: number }
  /** The state at `start` for `seed` (the initial population). */
  readonly init: (world: World, seed: number, start: number) => S
  /** Figures of the state for `stats().world` (JSON). */
  readonly stats: (state: S, world: World) => Record<string, unknown>
  readonly actions?: Readonly<Record<string, WorldActionSpec<S>>>
  /** The baseline paragraph of docs/streams.md (initial population, growth …); default: the growth. */
  readonly docBaseline?: (world: World) => string
  /** Persona segments (agent worlds). */
  readonly segments?: (world: World) => WorldDescription['segments']
}

/** Defines a world module with its types checked (identity at run time). */
export function defineWorld<S, C>(m: WorldModule<S, C>): WorldModule<S, C> {
  return m
}
