/**
 * The event envelope every consumer sees (CONTRACT.md "Event envelope") and the
 * stream catalog entry describing each stream of a world.
 */
import Type, { type Static } from 'typebox'

export const AnomalyFlag = {
  normal: 'normal',
  warning: 'warning',
  critical: 'critical',
} as const
export type AnomalyFlag = (typeof AnomalyFlag)[keyof typeof AnomalyFlag]

export const AnomalyFlagSchema = Type.Union([
  Type.Literal('normal'),
  Type.Literal('warning'),
  Type.Literal('critical'),
])

export const Cadence = { high: 'high', medium: 'medium', low: 'low' } as const
export type Cadence = (typeof Cadence)[keyof typeof Cadence]
export const CadenceSchema = Type.Union([
  Type.Literal('high'),
  Type.Literal('medium'),
  Type.Literal('low'),
])

/** `<ms>-<seq>`: a Redis stream id the generator assigns; the total-order resume cursor. */
export const EventIdSchema = Type.String({ pattern: '^[0-9]{1,15}-[0-9]{1,15}$' })

export const StreamEventSchema = Type.Object(
  {
    id: EventIdSchema,
    world: Type.String(),
    stream: Type.String(),
    channel: Type.String(),
    timestamp: Type.String({ format: 'date-time' }),
    data: Type.Record(Type.String(), Type.Unknown()),
    normalizedValue: Type.Number({ minimum: 0, maximum: 100 }),
    anomalyFlag: AnomalyFlagSchema,
    causes: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
)
export type StreamEvent = Static<typeof StreamEventSchema>

/** One row of `GET /api/streams`. */
export const StreamInfoSchema = Type.Object(
  {
    name: Type.String(),
    domain: Type.String(),
    channel: Type.String(),
    cadence: CadenceSchema,
    unit: Type.String(),
    description: Type.String(),
  },
  { additionalProperties: false },
)
export type StreamInfo = Static<typeof StreamInfoSchema>
