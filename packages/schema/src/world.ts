/**
 * World configuration: the JSON files under `config/worlds/<world>/` that declare a
 * rate-driven world (streams, baseline metrics, relationships, cadences). Every
 * object is closed (`additionalProperties: false`) so a typo fails at boot with the
 * file and the JSON path; cross-file references (stream names, metric names) are
 * checked by the loader in `@verisim/sim`.
 *
 * The optional `scenario-definitions.json` and `external-events-library.json` have
 * their schemas at the end of this file (docs/scenarios.md).
 */
import Type, { type Static } from 'typebox'
import { CadenceSchema } from './event.js'

const closed = { additionalProperties: false } as const

/** Stream names: `<domain>.<part>[.<part>…]`, lower case; parts may use `_` (`user_actions.venue.browsed`). */
export const StreamNameSchema = Type.String({
  pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$',
})

/** Domain and channel names: lower case, digits and `_` (`user_actions`). */
export const ChannelNameSchema = Type.String({ pattern: '^[a-z][a-z0-9_]*$' })

/** Names a world module defines (behaviours, actors, anchors, categories, calendar kinds): checked against the module at load. */
export const ModuleNameSchema = Type.String({ pattern: '^[a-z][a-zA-Z0-9_.-]*$' })

/** Calendar dates inside a year, `MM-DD`. */
export const MonthDaySchema = Type.String({ pattern: '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' })

// ---------------------------------------------------------------------------
// Distributions (values, delays, categorical fields)

export const DistributionType = {
  constant: 'constant',
  uniform: 'uniform',
  normal: 'normal',
  lognormal: 'lognormal',
  gamma: 'gamma',
  exponential: 'exponential',
  poisson: 'poisson',
  categorical: 'categorical',
} as const
export type DistributionType = (typeof DistributionType)[keyof typeof DistributionType]

/**
 * One random quantity. Which parameters are required depends on `type` (checked by
 * the loader, which names the missing one):
 * constant `value` · uniform `min max` · normal `mean sd` · lognormal `median sigma` ·
 * gamma `shape scale` · exponential `mean` · poisson `mean` · categorical `values weights`.
 * `offset` is added after drawing, then `clampMin`/`clampMax` bound it and `round`
 * keeps that many decimals.
 */
export const DistributionSchema = Type.Object(
  {
    type: Type.Enum([
      'constant',
      'uniform',
      'normal',
      'lognormal',
      'gamma',
      'exponential',
      'poisson',
      'categorical',
    ]),
    value: Type.Optional(Type.Union([Type.Number(), Type.String()])),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    mean: Type.Optional(Type.Number()),
    sd: Type.Optional(Type.Number({ minimum: 0 })),
    median: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    sigma: Type.Optional(Type.Number({ minimum: 0 })),
    shape: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    scale: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    values: Type.Optional(Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean()]))),
    weights: Type.Optional(Type.Array(Type.Number({ minimum: 0 }))),
    offset: Type.Optional(Type.Number()),
    clampMin: Type.Optional(Type.Number()),
    clampMax: Type.Optional(Type.Number()),
    round: Type.Optional(Type.Integer({ minimum: 0, maximum: 6 })),
  },
  closed,
)
export type Distribution = Static<typeof DistributionSchema>

// ---------------------------------------------------------------------------
// streams.json

/**
 * What a stream does to the world when it fires, beyond drawing its fields: a
 * behaviour of the world module (`generic`, built into the kernel, only picks its
 * `actors` and draws its fields). Names are checked against the module at load.
 */
export const StreamBehaviorSchema = ModuleNameSchema
export type StreamBehavior = string

/** Entities a generic stream's event refers to (an actor of the world module), picked among the active ones. */
export const StreamActorSchema = ModuleNameSchema

/**
 * How a stream's events arrive on their own (streams without `arrival` only happen
 * as outcomes of a chain in stream-relationships.json).
 * - `poisson`: non-homogeneous Poisson with mean `perDay` events a day, shaped by the
 *   seasonality `profile` (time of day × day of week × academic calendar × growth).
 * - `periodic`: fixed period with jitter from stream-cadences.json `periodic`.
 * - `state`: Poisson whose base rate comes from the world's state (the world module's
 *   state rate named `rate`, e.g. tutoring's `cohortChurn`: the active students of each
 *   cohort × its monthly churn), shaped by `profile`.
 */
export const ArrivalSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('poisson'), Type.Literal('periodic'), Type.Literal('state')]),
    perDay: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** `state` arrivals: the world module's state rate. */
    rate: Type.Optional(ModuleNameSchema),
    profile: Type.Optional(Type.String()),
  },
  closed,
)
export type Arrival = Static<typeof ArrivalSchema>

/**
 * The stream's primary value: the number its `normalizedValue` and anomaly flag are
 * computed from. Either drawn from `dist` (baseline mean/σ derived analytically, or
 * by a fixed-seed sample when clamped), or `observed` from the simulation state (a
 * delay, a tenure, a count) with the baseline mean/σ declared here.
 */
export const StreamValueSchema = Type.Object(
  {
    field: Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9]*$' }),
    dist: Type.Optional(DistributionSchema),
    observed: Type.Optional(
      Type.Object({ mean: Type.Number(), sd: Type.Number({ exclusiveMinimum: 0 }) }, closed),
    ),
  },
  closed,
)
export type StreamValue = Static<typeof StreamValueSchema>

/**
 * A stream's anomaly rule (docs/SIGNAL.md), in σ of its signal: `warningSigma` /
 * `criticalSigma` raise the flag, which drops a level only `hysteresisSigma` below;
 * `tolerance` is the relative model error its rate is allowed (κ), `valueTolerance`
 * the same for its value mean (κv, in σ); `windowEvents` sizes its window (enough
 * 15-minute buckets to expect this many events, at most `maxWindowMinutes`).
 */
export const AnomalyRuleSchema = Type.Object(
  {
    warningSigma: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    criticalSigma: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    hysteresisSigma: Type.Optional(Type.Number({ minimum: 0 })),
    tolerance: Type.Optional(Type.Number({ minimum: 0 })),
    valueTolerance: Type.Optional(Type.Number({ minimum: 0 })),
    windowEvents: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    maxWindowMinutes: Type.Optional(Type.Integer({ minimum: 15, multipleOf: 15 })),
  },
  closed,
)
export type AnomalyRule = Static<typeof AnomalyRuleSchema>

/**
 * What a stream's signal watches: `rate` (how often it happens), `value` (its
 * primary value: periodic streams, whose rate is fixed) or `both` (streams whose
 * value matters: latency, price, rating, duration). Default: `value` for periodic
 * streams, `rate` otherwise.
 */
export const SignalKindSchema = Type.Union([
  Type.Literal('rate'),
  Type.Literal('value'),
  Type.Literal('both'),
])

export const StreamConfigSchema = Type.Object(
  {
    name: StreamNameSchema,
    domain: ChannelNameSchema,
    /** The channel (Redis stream) its events go to; default: the domain. */
    channel: Type.Optional(ChannelNameSchema),
    cadence: CadenceSchema,
    unit: Type.String({ minLength: 1 }),
    description: Type.String({ minLength: 1 }),
    behavior: Type.Optional(StreamBehaviorSchema),
    actors: Type.Optional(Type.Array(StreamActorSchema)),
    arrival: Type.Optional(ArrivalSchema),
    value: StreamValueSchema,
    /** Extra fields drawn for each event, in this order. */
    fields: Type.Optional(Type.Record(Type.String(), DistributionSchema)),
    anomaly: Type.Optional(AnomalyRuleSchema),
    signal: Type.Optional(SignalKindSchema),
  },
  closed,
)
export type StreamConfig = Static<typeof StreamConfigSchema>

export const StreamsFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    world: Type.String({ minLength: 1 }),
    description: Type.String(),
    domains: Type.Array(
      Type.Object({ name: ChannelNameSchema, description: Type.String() }, closed),
      {
        minItems: 1,
      },
    ),
    /** The world's default anomaly rule (docs/SIGNAL.md); a stream's own `anomaly` overrides it field by field. */
    anomaly: AnomalyRuleSchema,
    streams: Type.Array(StreamConfigSchema, { minItems: 1 }),
  },
  closed,
)
export type StreamsFile = Static<typeof StreamsFileSchema>

// ---------------------------------------------------------------------------
// baseline-metrics.json

export const RangeSchema = Type.Object({ min: Type.Number(), max: Type.Number() }, closed)
export type Range = Static<typeof RangeSchema>

/** Events of one stream, optionally only those whose data fields equal the given values. */
export const EventSelectorSchema = Type.Object(
  {
    stream: StreamNameSchema,
    where: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    ),
  },
  closed,
)
export type EventSelector = Static<typeof EventSelectorSchema>

/**
 * How a baseline metric is measured from a run (used by the statistical tests and
 * later by the statistics endpoint):
 * - `ratio`: count(numerator) / count(denominator)
 * - `mean`: mean of `field` over the events of `of`
 * - `perEntityDay`: count(numerator) / days / mean population of `entity` × `scale`
 * - `population`: mean population of `entity` (or `entity` / `per`)
 * - `weekendUplift`: mean weekend-day count / mean weekday count − 1 of `of`
 * - `peakRatio`: mean hourly count in 08–22 h / in 23–07 h of `of`
 * - `growth`: monthly growth of `of`'s volume fitted over whole weeks
 */
export const MetricMeasureSchema = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('ratio'),
      Type.Literal('mean'),
      Type.Literal('perEntityDay'),
      Type.Literal('population'),
      Type.Literal('weekendUplift'),
      Type.Literal('peakRatio'),
      Type.Literal('growth'),
    ]),
    numerator: Type.Optional(Type.Array(EventSelectorSchema, { minItems: 1 })),
    denominator: Type.Optional(Type.Array(EventSelectorSchema, { minItems: 1 })),
    of: Type.Optional(Type.Array(EventSelectorSchema, { minItems: 1 })),
    field: Type.Optional(Type.String()),
    entity: Type.Optional(Type.String()),
    per: Type.Optional(Type.String()),
    scale: Type.Optional(Type.Number()),
  },
  closed,
)
export type MetricMeasure = Static<typeof MetricMeasureSchema>

export const BaselineMetricSchema = Type.Object(
  {
    description: Type.String(),
    /** The value the engine aims at; chains may use it as a probability by name. */
    target: Type.Optional(Type.Number()),
    range: RangeSchema,
    unit: Type.Optional(Type.String()),
    measure: MetricMeasureSchema,
  },
  closed,
)
export type BaselineMetric = Static<typeof BaselineMetricSchema>

export const SeasonalityProfileSchema = Type.Object(
  {
    description: Type.String(),
    /** Relative activity per UTC hour 0–23; normalized to mean 1 by the loader. */
    hourly: Type.Array(Type.Number({ minimum: 0 }), { minItems: 24, maxItems: 24 }),
    /** Relative activity per weekday, Sunday first; normalized to mean 1. */
    weekly: Type.Array(Type.Number({ minimum: 0 }), { minItems: 7, maxItems: 7 }),
    /** Whether the academic calendar periods apply. */
    calendar: Type.Boolean(),
    /** Whether the monthly growth applies. */
    growth: Type.Boolean(),
  },
  closed,
)
export type SeasonalityProfile = Static<typeof SeasonalityProfileSchema>

export const CalendarPeriodSchema = Type.Object(
  {
    name: Type.String(),
    /** A calendar kind of the world module (tutoring: exam, summer, holiday, other). */
    kind: ModuleNameSchema,
    /** Inclusive `MM-DD` bounds; a period may wrap the year end (`12-24` → `01-01`). */
    from: MonthDaySchema,
    to: MonthDaySchema,
    multiplier: Type.Number({ minimum: 0 }),
  },
  closed,
)
export type CalendarPeriod = Static<typeof CalendarPeriodSchema>

/**
 * The kernel's properties of baseline-metrics.json. A world module adds its own
 * (tutoring: population, cohorts, sessions, campaigns, subjects) through
 * `WorldModule.baselineProperties`; the loader validates the file against the
 * union, closed.
 */
export const BaselineMetricsKernelProperties = {
  $schema: Type.Optional(Type.String()),
  world: Type.String(),
  description: Type.String(),
  growth: Type.Object(
    { monthly: Type.Number({ minimum: -0.5, maximum: 1 }), range: RangeSchema },
    closed,
  ),
  seasonality: Type.Object(
    {
      profiles: Type.Record(Type.String(), SeasonalityProfileSchema),
      calendar: Type.Array(CalendarPeriodSchema),
    },
    closed,
  ),
  metrics: Type.Record(Type.String(), BaselineMetricSchema),
}

/** baseline-metrics.json with the kernel's properties only (a world's own are added at load). */
export const BaselineMetricsFileSchema = Type.Object(BaselineMetricsKernelProperties, closed)
export type BaselineMetricsFile = Static<typeof BaselineMetricsFileSchema> & Record<string, unknown>

// ---------------------------------------------------------------------------
// stream-relationships.json

/** A delay in hours after the trigger event, or relative to the session start/end. */
export const ChainDelaySchema = Type.Object(
  {
    /** `trigger` (default) or an anchor of the world module (tutoring: a session's `start`, `end`). */
    anchor: Type.Optional(ModuleNameSchema),
    hours: DistributionSchema,
  },
  closed,
)
export type ChainDelay = Static<typeof ChainDelaySchema>

export const ChainOutcomeSchema = Type.Object(
  {
    stream: StreamNameSchema,
    /** A probability, or the name of a metric in baseline-metrics.json whose `target` is used. */
    probability: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.String()]),
    delay: ChainDelaySchema,
  },
  closed,
)
export type ChainOutcome = Static<typeof ChainOutcomeSchema>

export const ChainConditionSchema = Type.Object(
  {
    field: Type.String(),
    eq: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    lte: Type.Optional(Type.Number()),
    gte: Type.Optional(Type.Number()),
  },
  closed,
)
export type ChainCondition = Static<typeof ChainConditionSchema>

/**
 * An event chain: when `trigger` fires (and `when` holds), `oneOf` picks at most one
 * outcome by probability (`complete` chains must sum to 1), `each` tries every
 * outcome independently.
 */
export const ChainSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9-]+$' }),
    description: Type.String(),
    trigger: StreamNameSchema,
    when: Type.Optional(ChainConditionSchema),
    mode: Type.Union([Type.Literal('oneOf'), Type.Literal('each')]),
    complete: Type.Optional(Type.Boolean()),
    outcomes: Type.Array(ChainOutcomeSchema, { minItems: 1 }),
  },
  closed,
)
export type Chain = Static<typeof ChainSchema>

export const EntityKindSchema = Type.Object(
  {
    idField: Type.String(),
    prefix: Type.String({ pattern: '^[a-z]+_$' }),
    /** Streams whose events introduce a new id of this kind. */
    createdBy: Type.Array(StreamNameSchema),
    /** Present before the simulation starts (the initial population). */
    initial: Type.Optional(Type.Boolean()),
    /** A fixed catalog from the config (campaigns), not created by events. */
    static: Type.Optional(Type.Boolean()),
  },
  closed,
)
export type EntityKind = Static<typeof EntityKindSchema>

export const LifecycleSchema = Type.Object(
  {
    entity: Type.String(),
    description: Type.String(),
    initialState: Type.Optional(Type.String()),
    transitions: Type.Array(
      Type.Object(
        {
          stream: StreamNameSchema,
          /** States the entity may be in; empty when the stream creates it. */
          from: Type.Array(Type.String()),
          to: Type.String(),
        },
        closed,
      ),
      { minItems: 1 },
    ),
  },
  closed,
)
export type Lifecycle = Static<typeof LifecycleSchema>

/** Supply/demand: an outcome's probability scales with the bookable supply (ratio to expected)^elasticity. */
export const CorrelationSchema = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    kind: Type.Literal('supply'),
    outcome: StreamNameSchema,
    elasticity: Type.Number(),
    floor: Type.Number({ minimum: 0 }),
    cap: Type.Number({ minimum: 0 }),
  },
  closed,
)
export type Correlation = Static<typeof CorrelationSchema>

export const CascadeSchema = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    /** The streams the cascade runs through, each linked to the next by a chain. */
    path: Type.Array(StreamNameSchema, { minItems: 2 }),
  },
  closed,
)
export type Cascade = Static<typeof CascadeSchema>

export const StreamRelationshipsFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    world: Type.String(),
    description: Type.String(),
    entities: Type.Record(Type.String(), EntityKindSchema),
    chains: Type.Array(ChainSchema),
    correlations: Type.Array(CorrelationSchema),
    lifecycles: Type.Array(LifecycleSchema),
    cascades: Type.Array(CascadeSchema),
  },
  closed,
)
export type StreamRelationshipsFile = Static<typeof StreamRelationshipsFileSchema>

// ---------------------------------------------------------------------------
// stream-cadences.json

export const CadenceGroupSchema = Type.Object(
  {
    description: Type.String(),
    /** Mean events per hour a stream of this group has at baseline. */
    eventsPerHour: RangeSchema,
  },
  closed,
)

export const StreamCadencesFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    world: Type.String(),
    description: Type.String(),
    groups: Type.Object(
      { high: CadenceGroupSchema, medium: CadenceGroupSchema, low: CadenceGroupSchema },
      closed,
    ),
    /** Fixed-period streams: one event every `everySec`, shifted by ±`jitterSec` (uniform). */
    periodic: Type.Record(
      Type.String(),
      Type.Object(
        {
          everySec: Type.Number({ exclusiveMinimum: 0 }),
          jitterSec: Type.Number({ minimum: 0 }),
        },
        closed,
      ),
    ),
  },
  closed,
)
export type StreamCadencesFile = Static<typeof StreamCadencesFileSchema>

/** The files of a rate-driven world, by file name, each with its schema. */
export const WorldFiles = {
  streams: { file: 'streams.json', schema: StreamsFileSchema },
  baseline: { file: 'baseline-metrics.json', schema: BaselineMetricsFileSchema },
  relationships: { file: 'stream-relationships.json', schema: StreamRelationshipsFileSchema },
  cadences: { file: 'stream-cadences.json', schema: StreamCadencesFileSchema },
} as const

// ---------------------------------------------------------------------------
// Scenarios and external events: scenario-definitions.json, external-events-library.json
// (both optional: a world without them has no scenarios). Cross-references (stream
// names, template ids, cascade order) are checked by the loader in `@verisim/sim`.

/**
 * An ISO 8601 duration in weeks, days, hours, minutes and seconds: `PT8H`, `P3D`,
 * `P1DT12H`, `PT90M`, `PT0S`. Years and months are refused (their length varies).
 */
export const IsoDurationSchema = Type.String({
  pattern: '^P(?=\\d|T\\d)(\\d+W)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$',
})

/** A signed ISO 8601 duration: `-PT3H` is three hours before the reference time. */
export const IsoOffsetSchema = Type.String({
  pattern: '^-?P(?=\\d|T\\d)(\\d+W)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$',
})

/** An exact stream name, a domain wildcard (`session.*`) or `*`. */
export const StreamPatternSchema = Type.String({
  pattern: '^(\\*|[a-z][a-z0-9_]*\\.\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+)$',
})

export const ModifierType = {
  multiplier: 'multiplier',
  additive: 'additive',
  override: 'override',
  probabilityShift: 'probabilityShift',
} as const
export type ModifierType = (typeof ModifierType)[keyof typeof ModifierType]

/** The parameter of a stream a modifier changes. */
export const ModifierTarget = {
  /** Arrival rate in events per hour (for a chain outcome: its weight among the chain's outcomes). */
  rate: 'rate',
  /** The primary value of each event (and so its normalized value). */
  value: 'value',
  /** The stream's probability as a chain outcome; the other outcomes of a `oneOf` chain are rescaled so the chain keeps its total. */
  probability: 'probability',
} as const
export type ModifierTarget = (typeof ModifierTarget)[keyof typeof ModifierTarget]

/**
 * One change to one parameter of the matched streams.
 * - `multiplier` × `value` (> 0) — rate, value or probability
 * - `additive` + `value` — rate (events per hour, streams with an arrival of their own) or value
 * - `override` = `value` — rate (events per hour), value, or probability (0–1)
 * - `probabilityShift` + `value` (−1…1) — probability, in probability points
 *
 * Modifiers on one parameter compose in order (baseline → time patterns → scenario →
 * external events): multipliers multiply, additives add, an override replaces what
 * came before it. When some declare a `precedence`, only the highest applies.
 */
export const StreamModifierSchema = Type.Object(
  {
    stream: StreamPatternSchema,
    type: Type.Enum(['multiplier', 'additive', 'override', 'probabilityShift']),
    /** Defaults to `rate` (`probability` for `probabilityShift`). */
    target: Type.Optional(Type.Enum(['rate', 'value', 'probability'])),
    value: Type.Number(),
    precedence: Type.Optional(Type.Integer()),
    description: Type.Optional(Type.String()),
  },
  closed,
)
export type StreamModifier = Static<typeof StreamModifierSchema>

/** An external event's category: one the world module declares (tutoring: marketing, product, infrastructure, academic, competitive, operational). */
export const ExternalEventCategorySchema = ModuleNameSchema
export type ExternalEventCategory = string
export const SeveritySchema = Type.Enum(['info', 'warning', 'critical'])
export type Severity = Static<typeof SeveritySchema>
export const ImpactDirectionSchema = Type.Enum(['increase', 'decrease', 'mixed'])
export type ImpactDirection = Static<typeof ImpactDirectionSchema>
export const ImpactMagnitudeSchema = Type.Enum(['low', 'medium', 'high'])
export type ImpactMagnitude = Static<typeof ImpactMagnitudeSchema>

/** What an external event is expected to do: which streams, which way, how much, from when (`delay` after the event) and for how long. */
export const ExpectedImpactSchema = Type.Object(
  {
    streams: Type.Array(StreamPatternSchema, { minItems: 1 }),
    direction: ImpactDirectionSchema,
    magnitude: ImpactMagnitudeSchema,
    delay: IsoDurationSchema,
    duration: IsoDurationSchema,
  },
  closed,
)
export type ExpectedImpact = Static<typeof ExpectedImpactSchema>

/**
 * A kind of external event. `modifiers` are what it does to the streams during its
 * impact window (every one must touch a stream listed in `expectedImpact.streams`);
 * a `redHerring` template is announced but changes nothing.
 */
export const ExternalEventTemplateSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' }),
    category: ExternalEventCategorySchema,
    title: Type.String({ minLength: 1 }),
    description: Type.String(),
    severity: SeveritySchema,
    icon: Type.String({ minLength: 1 }),
    expectedImpact: ExpectedImpactSchema,
    modifiers: Type.Array(StreamModifierSchema),
    redHerring: Type.Optional(Type.Boolean()),
    /** When such events typically happen (documentation for authors and dashboards). */
    timing: Type.Optional(Type.String()),
    externalLink: Type.Optional(Type.String()),
  },
  closed,
)
export type ExternalEventTemplate = Static<typeof ExternalEventTemplateSchema>

/**
 * A library template as the generator publishes it and `GET /api/events/templates`
 * lists it: what a dashboard shows to pick one (its modifiers stay in the engine).
 */
export const ExternalEventTemplateInfoSchema = Type.Object(
  {
    id: Type.String(),
    category: ExternalEventCategorySchema,
    title: Type.String(),
    description: Type.String(),
    severity: SeveritySchema,
    icon: Type.String(),
    redHerring: Type.Boolean(),
    timing: Type.Optional(Type.String()),
    expectedImpact: ExpectedImpactSchema,
  },
  closed,
)
export type ExternalEventTemplateInfo = Static<typeof ExternalEventTemplateInfoSchema>

export const ExternalEventsLibraryFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    world: Type.String(),
    description: Type.String(),
    templates: Type.Array(ExternalEventTemplateSchema, { minItems: 1 }),
  },
  closed,
)
export type ExternalEventsLibraryFile = Static<typeof ExternalEventsLibraryFileSchema>

/** Fields an injection (or a scenario) may change on a template. */
export const ExternalEventOverridesSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1 })),
    description: Type.Optional(Type.String()),
    severity: Type.Optional(SeveritySchema),
    icon: Type.Optional(Type.String({ minLength: 1 })),
    redHerring: Type.Optional(Type.Boolean()),
    externalLink: Type.Optional(Type.String()),
    injectedByAI: Type.Optional(Type.Boolean()),
    expectedImpact: Type.Optional(Type.Partial(ExpectedImpactSchema, closed)),
    modifiers: Type.Optional(Type.Array(StreamModifierSchema)),
  },
  closed,
)
export type ExternalEventOverrides = Static<typeof ExternalEventOverridesSchema>

/**
 * Size limits of an injected external event's fields (characters; items for
 * `modifiers`): every list of external events carries them, so they stay small.
 */
export const EXTERNAL_EVENT_LIMITS = {
  templateId: 200,
  timestamp: 64,
  title: 200,
  description: 2000,
  icon: 64,
  externalLink: 2048,
  modifiers: 50,
} as const

/**
 * `POST /api/events/external` / `Engine.injectExternalEvent`: a template id plus
 * overrides, or a full event (`category`, `title`, `severity`, `expectedImpact`
 * required then). `timestamp` (ISO 8601 or epoch ms) may be in the past or the future.
 */
export const ExternalEventInputSchema = Type.Object(
  {
    templateId: Type.Optional(
      Type.String({ minLength: 1, maxLength: EXTERNAL_EVENT_LIMITS.templateId }),
    ),
    timestamp: Type.Union([
      Type.String({ minLength: 1, maxLength: EXTERNAL_EVENT_LIMITS.timestamp }),
      Type.Number(),
    ]),
    category: Type.Optional(ExternalEventCategorySchema),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: EXTERNAL_EVENT_LIMITS.title })),
    description: Type.Optional(Type.String({ maxLength: EXTERNAL_EVENT_LIMITS.description })),
    severity: Type.Optional(SeveritySchema),
    icon: Type.Optional(Type.String({ minLength: 1, maxLength: EXTERNAL_EVENT_LIMITS.icon })),
    redHerring: Type.Optional(Type.Boolean()),
    externalLink: Type.Optional(Type.String({ maxLength: EXTERNAL_EVENT_LIMITS.externalLink })),
    injectedByAI: Type.Optional(Type.Boolean()),
    expectedImpact: Type.Optional(Type.Partial(ExpectedImpactSchema, closed)),
    modifiers: Type.Optional(
      Type.Array(StreamModifierSchema, { maxItems: EXTERNAL_EVENT_LIMITS.modifiers }),
    ),
  },
  closed,
)
export type ExternalEventInputFields = Static<typeof ExternalEventInputSchema>

/**
 * A secondary effect of a scenario: `delay` after `trigger` is affected (by the
 * scenario's modifiers or by another cascade), `modifiers` apply too. Cascades may
 * chain but never loop.
 */
export const CascadeRuleSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' }),
    description: Type.String(),
    trigger: StreamNameSchema,
    delay: IsoDurationSchema,
    modifiers: Type.Array(StreamModifierSchema, { minItems: 1 }),
  },
  closed,
)
export type CascadeRule = Static<typeof CascadeRuleSchema>

export const SettleCurve = {
  linear: 'linear',
  exponential: 'exponential',
  immediate: 'immediate',
} as const
export type SettleCurve = (typeof SettleCurve)[keyof typeof SettleCurve]

/**
 * How a scenario returns to baseline once it stops: `linear` (the modifiers shrink
 * evenly to neutral over `duration`), `exponential` (they decay so that the largest
 * is within 5 % of baseline at `duration`), `immediate` (they end at once). `backlog`
 * modifiers start when settling starts and fade linearly over `duration` (the
 * processing spike after an outage is fixed).
 */
export const SettlementSchema = Type.Object(
  {
    curve: Type.Enum(['linear', 'exponential', 'immediate']),
    duration: IsoDurationSchema,
    backlog: Type.Optional(Type.Array(StreamModifierSchema)),
  },
  closed,
)
export type Settlement = Static<typeof SettlementSchema>

/** An external event a scenario injects, `offset` after (or, negative, before) its activation. */
export const ScenarioEventSchema = Type.Object(
  {
    templateId: Type.String({ minLength: 1 }),
    offset: IsoOffsetSchema,
    overrides: Type.Optional(ExternalEventOverridesSchema),
  },
  closed,
)
export type ScenarioEvent = Static<typeof ScenarioEventSchema>

export const ScenarioDefinitionSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' }),
    name: Type.String({ minLength: 1 }),
    description: Type.String({ minLength: 1 }),
    /** Active phase, ISO 8601 (e.g. `PT8H`); settling follows. */
    duration: IsoDurationSchema,
    modifiers: Type.Array(StreamModifierSchema),
    cascades: Type.Array(CascadeRuleSchema),
    settlement: SettlementSchema,
    events: Type.Array(ScenarioEventSchema),
  },
  closed,
)
export type ScenarioDefinition = Static<typeof ScenarioDefinitionSchema>

export const ScenarioDefinitionsFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    world: Type.String(),
    description: Type.String(),
    scenarios: Type.Array(ScenarioDefinitionSchema),
  },
  closed,
)
export type ScenarioDefinitionsFile = Static<typeof ScenarioDefinitionsFileSchema>
