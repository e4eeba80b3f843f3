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

/** `create_snapshot`: a named snapshot of the engine now (REST `POST /api/simulation/snapshot`). */
export const CreateSnapshotPayloadSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'a label for the list' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
)
/** `delete_snapshot` and `restore_snapshot`: the snapshot's id (`snap_<n>`). */
export const SnapshotIdPayloadSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: '^snap_[0-9]+$' }) },
  { additionalProperties: false },
)
/**
 * `travel`: takes the run to `targetTime` (from the run's start to 30 simulated
 * days past now) and pauses there; `dryRun` previews the state and the events
 * around it without leaving the current timeline.
 *
 * @example
 * { "targetTime": "2026-03-02T09:00:00Z", "dryRun": true }
 */
export const TravelPayloadSchema = Type.Object(
  {
    targetTime: Type.String({ format: 'date-time' }),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

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
  create_snapshot: CreateSnapshotPayloadSchema,
  list_snapshots: EmptyPayloadSchema,
  delete_snapshot: SnapshotIdPayloadSchema,
  restore_snapshot: SnapshotIdPayloadSchema,
  travel: TravelPayloadSchema,
  list_timelines: EmptyPayloadSchema,
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
  'list_snapshots',
  'list_timelines',
  'list_external_events',
  'get_correlations',
]

/** One command on the control stream. */
export interface ControlCommand {
  /**
   * The deduplication key: a repeated one gets the first result and applies
   * nothing. Gateways build it from the caller's scope and the client's id
   * (never the client's id alone), so two callers' ids never meet.
   */
  requestId: string
  action: AnyControlAction
  payload: Record<string, unknown>
  /**
   * Digest of the action and payload ({@link ControlCommand.requestId} is bound
   * to it): the same requestId with another fingerprint is refused with
   * `VS_GW_REQUEST_CONFLICT` instead of answered with the first result.
   */
  fingerprint?: string
  /**
   * Opaque, random per send: the published ack carries it (and not the
   * requestId) so the sender can find its answer on the public channel.
   */
  ref?: string
}

/** What the generator answers, and what a repeated requestId gets again. */
export interface ControlResult {
  requestId: string
  action: AnyControlAction
  success: boolean
  result?: unknown
  error?: { code: string; message: string; status: number }
  /** The command's fingerprint, kept with the stored result to detect a reused requestId. */
  fingerprint?: string
}

/**
 * The `simulation.ack` message on the public `simulation_control` channel: a
 * result without the requestId or fingerprint (those are the caller's), with
 * the sender's opaque `ref`.
 */
export interface ControlAck {
  ref: string | null
  action: AnyControlAction
  success: boolean
  result?: unknown
  error?: { code: string; message: string; status: number }
}

/** A result as it is published: no requestId, no fingerprint. */
export function publicAck(result: ControlResult, ref: string | undefined): ControlAck {
  return {
    ref: ref ?? null,
    action: result.action,
    success: result.success,
    ...(result.result === undefined ? {} : { result: result.result }),
    ...(result.error === undefined ? {} : { error: result.error }),
  }
}

/** HTTP status of a reused requestId / Idempotency-Key with another action or payload. */
export const REQUEST_CONFLICT_STATUS = 422

/**
 * The result a command gets when its requestId was used before for another
 * action or payload: nothing is applied, the first result stays stored.
 */
export function conflictResult(
  cmd: Pick<ControlCommand, 'requestId' | 'action'>,
  stored: Pick<ControlResult, 'action'>,
  label = 'this request id',
): ControlResult {
  const what =
    stored.action === cmd.action ? `"${cmd.action}" with another payload` : `"${stored.action}"`
  return {
    requestId: cmd.requestId,
    action: cmd.action,
    success: false,
    error: {
      code: 'VS_GW_REQUEST_CONFLICT',
      status: REQUEST_CONFLICT_STATUS,
      message: `${label} was already used for ${what}; nothing was applied (use a new id for a new command)`,
    },
  }
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
