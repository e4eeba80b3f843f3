/**
 * The parts of the simulation state (`GET /api/simulation/state`, `state_update`)
 * a page reads field by field: the running scenario, the modifiers in effect and
 * the recent anomalies. The generator writes them (services/generator/src/loop.ts,
 * from the engine's ScenarioStatus and ActiveModifier); the gateway serialises the
 * state with these schemas and the admin page takes its types from them, so a
 * renamed field fails to compile instead of showing "—".
 */
import Type, { type Static } from 'typebox'

/**
 * A modifier in effect (or about to be): one entry per source and stream.
 *
 * @example
 * { "source": "scenario:payment-outage", "stream": "system.api.error", "type": "multiplier",
 *   "target": "rate", "value": 5, "declaredValue": 5, "strength": 1, "status": "active",
 *   "remainingMs": 14400000, "role": "direct" }
 */
export const ActiveModifierSchema = Type.Object(
  {
    /** `scenario:<id>`, `external:<eventId>` or `manual:<id>` (adjust_behavior). */
    source: Type.String(),
    /** As declared: an exact stream name, `<domain>.*` or `*`. */
    stream: Type.String(),
    type: Type.Union([
      Type.Literal('multiplier'),
      Type.Literal('additive'),
      Type.Literal('override'),
      Type.Literal('probabilityShift'),
    ]),
    target: Type.Union([Type.Literal('rate'), Type.Literal('value'), Type.Literal('probability')]),
    /** In effect now (declared value scaled by strength). */
    value: Type.Number(),
    declaredValue: Type.Number(),
    strength: Type.Number(),
    status: Type.Union([Type.Literal('active'), Type.Literal('settling'), Type.Literal('pending')]),
    /** Until it stops shaping events; null: until cleared or reset. */
    remainingMs: Type.Union([Type.Number(), Type.Null()]),
    role: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    startTime: Type.Optional(Type.String()),
    endsAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type ActiveModifier = Static<typeof ActiveModifierSchema>

/** The running scenario (`null` at baseline); times are simulation epoch ms. */
export const ScenarioStatusSchema = Type.Object(
  {
    runId: Type.String(),
    id: Type.String(),
    name: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('settling'), Type.Literal('settled')]),
    startedAt: Type.Number(),
    settlingStartedAt: Type.Optional(Type.Number()),
    settledAt: Type.Optional(Type.Number()),
    /** Planned end of the active phase and end of settlement (moved when stopped early). */
    activeUntil: Type.Number(),
    settledBy: Type.Number(),
    nextTransition: Type.Union([
      Type.Null(),
      Type.Object(
        {
          to: Type.Union([Type.Literal('settling'), Type.Literal('settled')]),
          at: Type.Number(),
        },
        { additionalProperties: false },
      ),
    ]),
    /** Largest relative distance from baseline of its modifiers now (0 = baseline). */
    deviation: Type.Number(),
    modifiers: Type.Array(ActiveModifierSchema),
  },
  { additionalProperties: false },
)
export type ScenarioStatus = Static<typeof ScenarioStatusSchema>

/** One of the state's `recentAnomalies` (newest first, last 20). */
export const RecentAnomalySchema = Type.Object(
  {
    id: Type.String(),
    stream: Type.String(),
    timestamp: Type.String(),
    normalizedValue: Type.Number(),
    anomalyFlag: Type.Union([Type.Literal('warning'), Type.Literal('critical')]),
  },
  { additionalProperties: false },
)
export type RecentAnomaly = Static<typeof RecentAnomalySchema>
