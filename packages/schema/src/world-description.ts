/**
 * The running world as `GET /api/world` describes it: what the generator writes
 * to Redis at start (from `Engine.describe()`) and every reader (gateway, client,
 * admin page) takes from here, so none of them needs the engine or a world.
 * Action payload schemas are JSON Schema (TypeBox schemas serialise as such).
 */
import Type, { type Static } from 'typebox'

/** Name of a world action (`spawn_students`): what `POST /api/world/actions/:name` takes. */
export const WorldActionNameSchema = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z][A-Za-z0-9_.-]*$',
})

export const WorldActionInfoSchema = Type.Object(
  {
    name: WorldActionNameSchema,
    description: Type.String(),
    /** JSON Schema of the payload (closed objects). */
    payload: Type.Unknown({ description: 'JSON Schema of the payload' }),
  },
  { additionalProperties: false },
)
export type WorldActionInfo = Static<typeof WorldActionInfoSchema>

/**
 * A milestone of an entity's journey: the first (or last) of its events on one
 * of `streams`, e.g. tutoring's "first booking" (`session.booking.requested`).
 */
export const MilestoneSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
    label: Type.String(),
    streams: Type.Array(Type.String(), { minItems: 1 }),
    which: Type.Union([Type.Literal('first'), Type.Literal('last')]),
  },
  { additionalProperties: false },
)
export type Milestone = Static<typeof MilestoneSchema>

/**
 * A key figure of a world over a time range: how many events of `count`'s
 * streams, or the ratio of events of `ratio.of` to those of `ratio.per`
 * (e.g. confirmations per booking request).
 */
export const KpiSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
    label: Type.String(),
    count: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    ratio: Type.Optional(
      Type.Object(
        {
          of: Type.Array(Type.String(), { minItems: 1 }),
          per: Type.Array(Type.String(), { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type Kpi = Static<typeof KpiSchema>

export const WorldDescriptionSchema = Type.Object(
  {
    id: Type.String(),
    model: Type.Union([Type.Literal('chain'), Type.Literal('agent')]),
    description: Type.String(),
    channels: Type.Array(Type.String()),
    streams: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          channel: Type.String(),
          domain: Type.String(),
          cadence: Type.String(),
          unit: Type.String(),
          behavior: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
    /** Persona segments of an agent world (empty for chain worlds). */
    segments: Type.Array(
      Type.Object(
        { id: Type.String(), name: Type.String(), agents: Type.Optional(Type.Number()) },
        { additionalProperties: false },
      ),
    ),
    actions: Type.Array(WorldActionInfoSchema),
    /** Keys of the world's figures (`stats` in the simulation state). */
    statsKeys: Type.Array(Type.String()),
    warmupHours: Type.Number(),
    /** Fields of events' `data` naming an entity (the archive indexes them; absent: every `…Id` field). */
    entityFields: Type.Optional(Type.Array(Type.String())),
    /** Milestones of an entity's journey (`GET /api/journeys/:entityId`). */
    milestones: Type.Optional(Type.Array(MilestoneSchema)),
    /** The world's key figures over the archive (`GET /api/metrics/aggregate`). */
    kpis: Type.Optional(Type.Array(KpiSchema)),
  },
  { additionalProperties: false },
)
export type WorldDescription = Static<typeof WorldDescriptionSchema>

/**
 * `world_action`: a world action by name with its payload (checked by the
 * generator against the action's schema; absent means `{}`).
 *
 * @example
 * { "name": "spawn_students", "payload": { "count": 5 } }
 */
export const WorldActionPayloadSchema = Type.Object(
  {
    name: WorldActionNameSchema,
    payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
)
export type WorldActionPayload = Static<typeof WorldActionPayloadSchema>

/**
 * What a world action answers (REST body, WS `ack` result): the action's own
 * result and the world's figures right after it.
 *
 * @example
 * { "success": true, "name": "spawn_students", "result": { "spawned": 5, "firstId": "stu_20001", "lastId": "stu_20005" }, "stats": { "entities": { "students": 20005, … } } }
 */
export const WorldActionResultSchema = Type.Object(
  {
    success: Type.Literal(true),
    name: Type.String(),
    result: Type.Record(Type.String(), Type.Unknown()),
    stats: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
)
export type WorldActionResult = Static<typeof WorldActionResultSchema>
