/**
 * @verisim/sim — the simulation engine: pure, deterministic, no I/O beyond reading
 * a world folder at boot. The generator drives `createEngine(...).advance(to)` from
 * its clock; tests and benchmarks call it directly.
 */

// World configuration: load, validate, compile
export {
  loadWorld,
  compileWorld,
  WORLD_FILES,
  ArrivalKind,
  Anchor,
  type World,
  type WorldConfig,
  type WorldStream,
  type WorldChain,
  type WorldOutcome,
  type StreamBaseline,
} from './world/load.js'
export {
  streamDataShape,
  worldDataShapes,
  type StreamDataShape,
  type StreamField,
  type DataFieldType,
} from './world/fields.js'

// Engine
export {
  createEngine,
  restoreEngine,
  skipTo,
  inspectSnapshot,
  type SnapshotInfo,
  type JournalEntry,
  type Engine,
  type EngineOptions,
  type EngineStats,
  type RateModifier,
  type SimEvent,
} from './engine.js'

// Scenarios, external events, modifiers and correlations (Engine.activateScenario …)
export {
  SETTLED_WITHIN,
  settleStrength,
  settleStepMs,
  exponentialTau,
  type ScenarioInfo,
  type ScenarioActivation,
  type ScenarioStatus,
  type ScenarioPhase,
  type ScenarioSet,
  type CompiledScenario,
  type ActiveModifier,
  type BehaviorAdjustment,
  type BehaviorAdjustmentInput,
  type SettleCurve,
} from './scenarios/index.js'
export {
  CATEGORY_ICON,
  DEFAULT_ICON,
  MAGNITUDE_CHANGE,
  type ExternalEvent,
  type ExternalEventInput,
  type ActualImpact,
  type CompiledTemplate,
  type TemplateInfo,
} from './external.js'
export {
  compileModifier,
  composeParams,
  chainProbabilities,
  type CompiledModifier,
  type ModifierConflict,
  type ModifierEntry,
  type StreamParams,
} from './modifiers.js'
export {
  erf,
  type CorrelationQuery,
  type CorrelationAnswer,
  type CorrelationResult,
} from './correlations.js'
export { parseIsoDuration, formatIsoDuration } from './durations.js'

// Building blocks: seeded RNG, calendar, rate model, distributions, normalization
export { Rng, createRng, deriveKey, hashString, fmix32 } from './rng.js'
export {
  SECOND,
  MINUTE,
  HOUR,
  DAY,
  MONTH,
  hourOfDay,
  dayOfWeek,
  civilFromDays,
  monthDay,
  parseMonthDay,
  inPeriod,
} from './calendar.js'
export {
  RateModel,
  compileProfile,
  compilePeriods,
  calendarMultiplier,
  type CompiledProfile,
  type CompiledPeriod,
} from './rates.js'
export {
  compileDistribution,
  describeDistribution,
  DistributionParamError,
  type CompiledDistribution,
  type Sampler,
} from './distributions.js'
export { ExpectedRates, SignalTracker, type StreamSignal } from './signal.js'

// The world kit: what a world module supplies (worlds import these; the kernel imports no world)
export {
  defineWorld,
  type WorldModule,
  type WorldDescription,
  type WorldActionSpec,
  type ActionResult,
  type BehaviorSpec,
  type BehaviorContract,
  type Behavior,
  type DataFieldSpec,
  type DataSpec,
  type Host,
  type AnchorSpec,
  type StateRateSpec,
  type MeanFieldHooks,
  type ContextKind,
} from './kit/module.js'
export { GENERIC_CONTRACT } from './kit/generic.js'

// The agent model: populations in segments sampled per (segment, action), cooldowns by thinning
export { Fenwick } from './agents/fenwick.js'
export {
  AgentPopulation,
  type AgentPopulationOptions,
  type AgentColumn,
  type AgentArray,
} from './agents/population.js'
export { Cooldown, type CooldownOptions } from './agents/cooldown.js'

// Time travel: snapshots every few simulated hours, any moment rebuilt exactly
export {
  RunTimeline,
  type RunTimelineEntry,
  type RunTimelineOptions,
  type ThinningStep,
  type TravelResult,
} from './run-timeline.js'

// Engine snapshots: how a world's own classes are saved and loaded (WorldModule.snapshotClasses)
export {
  SNAPSHOT,
  encodeState,
  decodeState,
  type SnapshotClass,
  type Snapshottable,
} from './state-codec.js'

// Documentation generated from a world (docs/streams.md)
export { renderStreamsDoc } from './doc.js'

// Errors
export { SimError, SimErrorCode, WorldConfigError } from './errors.js'

// History: the 30-day baseline, its statistics and regenerations
export {
  HistoryModel,
  BUCKET_MS,
  HISTORY_DAYS,
  INTERVAL_MS,
  HISTORY_INTERVALS,
  ANOMALY_SHARE,
  poisson,
  type HistoryInterval,
  type HistorySeries,
  type GeneratedHistory,
  type HistoryModelOptions,
  type BaselineAnomaly,
  type Measure,
} from './history/model.js'
export { buildTimeline, type HistoryModification, type Timeline } from './history/timeline.js'
export { planBaselineEvents, RED_HERRING_SHARE, type BaselineEventPlan } from './history/events.js'
export {
  baselineStatistics,
  streamStatistics,
  rollUp,
  percentile,
  seasonalExpected,
  type BaselineStatistics,
  type StreamStatistics,
  type RolledUp,
} from './history/stats.js'
export {
  HistoryBook,
  type HistoryBookOptions,
  type HistoryEvent,
  type MeasuredImpact,
} from './history/book.js'
