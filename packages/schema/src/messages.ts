/**
 * WebSocket protocol messages (CONTRACT.md "WebSocket GET /ws"): what a client may
 * send, and the shapes the server answers with.
 */
import Type, { type Static } from 'typebox'
import { EventIdSchema } from './event.js'

/** Largest text frame the gateway accepts; bigger frames get `VS_GW_FRAME_TOO_LARGE`. */
export const MAX_FRAME_BYTES = 64 * 1024
/** Deepest nesting of arrays and objects accepted in a frame or a request body. */
export const MAX_JSON_DEPTH = 32
/** Most topics one subscribe/unsubscribe may carry. */
export const MAX_TOPICS_PER_MESSAGE = 100

const Topics = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
  minItems: 1,
  maxItems: MAX_TOPICS_PER_MESSAGE,
})

/** Control actions of snapshots, restore and time travel (docs/API.md "Time travel"). */
export const TimeTravelAction = [
  'create_snapshot',
  'list_snapshots',
  'delete_snapshot',
  'restore_snapshot',
  'travel',
  'list_timelines',
] as const
export type TimeTravelAction = (typeof TimeTravelAction)[number]

export const ControlAction = [
  'start',
  'pause',
  'resume',
  'set_speed',
  'set_scenario',
  'stop_scenario',
  'reset',
  'get_state',
  'inject_event',
  'spawn_users',
  'adjust_behavior',
  'world_action',
  ...TimeTravelAction,
] as const
export type ControlAction = (typeof ControlAction)[number]

export const SubscribeMessageSchema = Type.Object(
  {
    type: Type.Literal('subscribe'),
    topics: Topics,
    lastId: Type.Optional(EventIdSchema),
    lastTimestamp: Type.Optional(Type.String({ format: 'date-time' })),
    /** `0`/`false` turns off the `snapshot` sent when no resume point is given. */
    snapshot: Type.Optional(
      Type.Union([Type.Literal(0), Type.Literal(1), Type.Boolean()], {
        description: '0 or false: no snapshot of recent events after "subscribed"',
      }),
    ),
  },
  { additionalProperties: false },
)
export const UnsubscribeMessageSchema = Type.Object(
  { type: Type.Literal('unsubscribe'), topics: Topics },
  { additionalProperties: false },
)
export const PingMessageSchema = Type.Object(
  { type: Type.Literal('ping'), ts: Type.Optional(Type.String()) },
  { additionalProperties: false },
)
export const PongMessageSchema = Type.Object(
  { type: Type.Literal('pong'), ts: Type.Optional(Type.String()) },
  { additionalProperties: false },
)
export const AuthMessageSchema = Type.Object(
  { type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
)
export const ControlMessageSchema = Type.Object(
  {
    type: Type.Literal('control'),
    requestId: Type.String({ minLength: 1, maxLength: 200 }),
    action: Type.Union(ControlAction.map((a) => Type.Literal(a))),
    payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
)

export type SubscribeMessage = Static<typeof SubscribeMessageSchema>
export type UnsubscribeMessage = Static<typeof UnsubscribeMessageSchema>
export type PingMessage = Static<typeof PingMessageSchema>
export type PongMessage = Static<typeof PongMessageSchema>
export type AuthMessage = Static<typeof AuthMessageSchema>
export type ControlMessage = Static<typeof ControlMessageSchema>
export type ClientMessage =
  SubscribeMessage | UnsubscribeMessage | PingMessage | PongMessage | AuthMessage | ControlMessage

/** Schemas by `type`, so a bad frame is reported against the message it claims to be. */
export const ClientMessageSchemas = {
  subscribe: SubscribeMessageSchema,
  unsubscribe: UnsubscribeMessageSchema,
  ping: PingMessageSchema,
  pong: PongMessageSchema,
  auth: AuthMessageSchema,
  control: ControlMessageSchema,
} as const
export type ClientMessageType = keyof typeof ClientMessageSchemas

/** Error codes a client may receive in `{"type":"error","code":…}`. */
export const ProtocolErrorCode = {
  badJson: 'VS_GW_BAD_JSON',
  badMessage: 'VS_GW_BAD_MESSAGE',
  unknownType: 'VS_GW_UNKNOWN_TYPE',
  invalidMessage: 'VS_GW_INVALID_MESSAGE',
  frameTooLarge: 'VS_GW_FRAME_TOO_LARGE',
  binaryFrame: 'VS_GW_BINARY_FRAME',
  unknownTopic: 'VS_GW_UNKNOWN_TOPIC',
  unauthorized: 'VS_GW_UNAUTHORIZED',
  notSupported: 'VS_GW_NOT_SUPPORTED',
  /** A requestId already used on this connection's scope for another action or payload. */
  requestConflict: 'VS_GW_REQUEST_CONFLICT',
  /** JSON nested deeper than {@link MAX_JSON_DEPTH}. */
  tooDeep: 'VS_GW_TOO_DEEP',
  internal: 'VS_GW_INTERNAL',
} as const
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode]

export interface ErrorMessage {
  type: 'error'
  code: ProtocolErrorCode
  message: string
  requestId?: string
}
export interface SubscribedMessage {
  type: 'subscribed'
  topics: string[]
  epoch: string
  lastId: string | null
}
export interface UnsubscribedMessage {
  type: 'unsubscribed'
  topics: string[]
}
/**
 * Sent right after `subscribed` when no resume point was given (and the
 * subscribe did not say `"snapshot":0`): the last events of each newly matched
 * stream, oldest first. They come before any live event and are not part of
 * the gap-free sequence: live delivery starts after the frontier in `subscribed`.
 */
export interface SnapshotMessage<E = unknown> {
  type: 'snapshot'
  events: E[]
}
export type CatchupReason = 'too_old' | 'epoch_changed'
export interface CatchupMessageHead {
  type: 'catchup'
  catchUpEndTime?: string
  lastId?: string
  complete?: boolean
  reason?: CatchupReason
}
