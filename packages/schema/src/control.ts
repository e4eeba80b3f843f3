/**
 * Control plane: the commands a gateway forwards to the generator (REST and WS
 * `control`), their payloads, the acknowledgement, and the simulation state the
 * generator publishes.
 */
import Type, { type Static } from 'typebox'
import type { ControlAction } from './messages.js'
import { WorldActionPayloadSchema } from './world-description.js'
import { ActiveModifierSchema, RecentAnomalySchema, ScenarioStatusSchema } from './state.js'

export const MIN_SPEED = 0.1
export const MAX_SPEED = 10_000

export const SetSpeedPayloadSchema = Type.Object(
  { multiplier: Type.Number({ minimum: MIN_SPEED, maximum: MAX_SPEED }) },
  { additionalProperties: false },
)
export const SetScenarioPayloadSchema = Type.Object(
  { scenarioId: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
)
export const EmptyPayloadSchema = Type.Object({}, { additionalProperties: false })

/**
 * `adjust_behavior`: adds a manual modifier from the current simulation time on.
 * `stream` is an exact name, `"<domain>.*"` or `"*"`; `target` defaults to `rate`;
 * `duration` (ISO 8601, e.g. `PT2H`) ends it, absent it lasts until cleared or
 * reset; `id` names it (default `mod_<n>`; an id in use replaces that modifier).
 * The generator checks the stream, the value and the duration against the world.
 *
 * @example
 * { "stream": "customer.tutor.search", "type": "multiplier", "value": 1.5, "duration": "PT2H" }
 */
export const AdjustBehaviorAddPayloadSchema = Type.Object(
  {
    stream: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.Enum(['multiplier', 'additive', 'override', 'probabilityShift']),
    target: Type.Optional(Type.Enum(['rate', 'value', 'probability'])),
    value: Type.Number(),
    duration: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
)
/** `adjust_behavior` clearing: `{ "clear": true }` every manual modifier, `{ "clear": "<id>" }` one. */
export const AdjustBehaviorClearPayloadSchema = Type.Object(
  { clear: Type.Union([Type.Literal(true), Type.String({ minLength: 1, maxLength: 64 })]) },
  { additionalProperties: false },
)
export const AdjustBehaviorPayloadSchema = Type.Union([
  AdjustBehaviorAddPayloadSchema,
  AdjustBehaviorClearPayloadSchema,
])
export type AdjustBehaviorPayload = Static<typeof AdjustBehaviorPayloadSchema>

/** Payload schema of each action; actions not listed take any object (validated by the generator). */
export const ControlPayloadSchemas = {
  start: EmptyPayloadSchema,
  pause: EmptyPayloadSchema,
  resume: EmptyPayloadSchema,
  get_state: EmptyPayloadSchema,
  reset: EmptyPayloadSchema,
  stop_scenario: EmptyPayloadSchema,
  set_speed: SetSpeedPayloadSchema,
  set_scenario: SetScenarioPayloadSchema,
  adjust_behavior: AdjustBehaviorPayloadSchema,
  world_action: WorldActionPayloadSchema,
  list_external_events: Type.Object(
    {
      start: Type.Optional(Type.String({ format: 'date-time' })),
      end: Type.Optional(Type.String({ format: 'date-time' })),
    },
    { additionalProperties: false },
  ),
  get_correlations: Type.Union([
    Type.Object({ stream: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    Type.Object({ event: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ]),
  history_scenario: Type.Object(
    {
      scenarioId: Type.String({ minLength: 1, maxLength: 200 }),
      start: Type.String({ format: 'date-time' }),
      stop: Type.Optional(Type.String({ format: 'date-time' })),
    },
    { additionalProperties: false },
  ),
  scenario_transition: Type.Object(
    {
      to: Type.Union([Type.Literal('settling'), Type.Literal('settled')]),
      runId: Type.String({ minLength: 1 }),
    },
    { additionalProperties: false },
  ),
} as const satisfies Partial<Record<AnyControlAction, unknown>>

/**
 * Commands the gateway sends for its own REST reads and for the generator's
 * scheduled jobs; not part of the WebSocket `control` vocabulary.
 */
export const InternalControlAction = [
  'list_external_events',
  'get_correlations',
  'scenario_transition',
  'history_scenario',
] as const
export type InternalControlAction = (typeof InternalControlAction)[number]
export type AnyControlAction = ControlAction | InternalControlAction

/** Actions that only read: answered, but not recorded in the control log. */
export const READ_ONLY_ACTIONS: readonly AnyControlAction[] = [
  'get_state',
  'list_external_events',
  'get_correlations',
]

/** One command on the control stream. */
export interface ControlCommand {
  requestId: string
  action: AnyControlAction
  payload: Record<string, unknown>
}

/** What the generator answers, and what a repeated requestId gets again. */
export interface ControlResult {
  requestId: string
  action: AnyControlAction
  success: boolean
  result?: unknown
  error?: { code: string; message: string; status: number }
}

/**
 * In the answer to `set_scenario` (REST `POST /api/simulation/scenario`, WS ack,
 * the `simulation.ack` control message): the settling scenario the new one
 * replaced. It ended at the activation; a scenario still active is never
 * replaced (409 `VS_SIM_SCENARIO_ACTIVE`).
 *
 * @example
 * { "scenarioId": "exam-season-surge", "runId": "run_3", "phase": "settling" }
 */
export const ScenarioReplacedSchema = Type.Object(
  {
    scenarioId: Type.String(),
    runId: Type.String(),
    phase: Type.Literal('settling'),
  },
  { additionalProperties: false },
)
export type ScenarioReplaced = Static<typeof ScenarioReplacedSchema>

export const SimulationStateSchema = Type.Object(
  {
    world: Type.String(),
    seed: Type.Number(),
    /** The requested speed: simulation seconds per wall second. */
    speed: Type.Number(),
    /**
     * The speed actually kept over the last seconds: below `speed` when the
     * generator cannot keep up (simulation time then runs slower, never jumps); 0 while paused.
     * Optional: a state written by a generator that predates it still serialises.
     */
    effectiveSpeed: Type.Optional(Type.Number()),
    running: Type.Boolean(),
    paused: Type.Boolean(),
    startedAt: Type.String(),
    currentSimulationTime: Type.String(),
    epoch: Type.Union([Type.String(), Type.Null()]),
    lastId: Type.Union([Type.String(), Type.Null()]),
    eventsGenerated: Type.Number(),
    /** The running scenario, null at baseline. */
    scenario: Type.Union([ScenarioStatusSchema, Type.Null()]),
    activeModifiers: Type.Array(ActiveModifierSchema),
    activeEvents: Type.Array(Type.Unknown()),
    recentAnomalies: Type.Array(RecentAnomalySchema),
    historicalMode: Type.Union([Type.Literal('baseline'), Type.Literal('modified')]),
    updatedAt: Type.String(),
  },
  { additionalProperties: true },
)
export type SimulationState = Static<typeof SimulationStateSchema>

/** Streams of the `simulation_control` channel. */
export const ControlStream = {
  state: 'simulation.state',
  ack: 'simulation.ack',
  /** A history regeneration job's progress and completion. */
  history: 'simulation.history',
} as const
