/**
 * The client's public types: options, connection states, the events it emits,
 * and the minimal WebSocket shape it needs (browser `WebSocket`, `ws`, undici).
 */
import type {
  CatchupReason,
  StreamEvent,
  WorldActionInfo,
  WorldActionResult,
  WorldDescription,
  SavedSnapshotMeta,
  SnapshotList,
  TimelineList,
  TimelineRecord,
  TimelineSwitch,
  TravelPreview,
} from '@verisim/schema'
import type { ReconnectOptions } from './backoff.js'
import type { VerisimClientError } from './errors.js'

export type {
  StreamEvent,
  CatchupReason,
  WorldDescription,
  WorldActionInfo,
  WorldActionResult,
  SavedSnapshotMeta,
  SnapshotList,
  TimelineList,
  TimelineRecord,
  TimelineSwitch,
  TravelPreview,
}

export type Transport = 'ws' | 'sse'

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed'

// Handlers typed as methods are checked bivariantly, so both the DOM `WebSocket`
// and `ws` (whose handler parameters are richer event types) fit.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

/** What the client needs from a WebSocket: the browser's, `ws`'s, or undici's all fit. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  /** `ws` only: drop the connection without a closing handshake. */
  terminate?: () => void
  onopen: Handler<unknown> | null
  onmessage: Handler<{ data: unknown }> | null
  onclose: Handler<{ code: number; reason: string }> | null
  onerror: Handler<unknown> | null
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

export interface ClientOptions {
  /**
   * Gateway address. `ws(s)://host:port/ws` or `http(s)://host:port/sse`; a
   * bare origin (`http://localhost:8080`) gets `/ws` or `/sse` appended, and the
   * scheme is switched to match the transport. Relative URLs resolve against
   * `location` in browsers.
   */
  url: string
  /** Topics to subscribe to (`*`, `customer.*`, `anomalies`, …). Re-subscribed on every reconnect. */
  topics?: readonly string[]
  /** `ws` (default): full protocol incl. control. `sse`: read-only event stream. */
  transport?: Transport
  /**
   * WebSocket implementation. Defaults to the global `WebSocket` (browsers, Node ≥ 22).
   * In Node 20 pass `WebSocket` from the `ws` package.
   */
  WebSocket?: WebSocketConstructor
  /** `fetch` used by the SSE transport and the REST calls (`world`, `worldAction` over SSE). Defaults to the global `fetch`. */
  fetch?: typeof fetch
  /**
   * Admin token, sent as `?token=` (needed for `control` when the gateway sets `ADMIN_TOKEN`)
   * and as `Authorization: Bearer` on REST calls.
   */
  token?: string
  /** Resume point: deliver only events after this id (e.g. one persisted from `client.lastId`). */
  lastId?: string | null
  /**
   * Ask for a `snapshot` (the last 10 events of each matched stream) when
   * subscribing without a resume point. Default true; false sends `"snapshot":0`
   * (WS) / `?snapshot=0` (SSE).
   */
  snapshot?: boolean
  reconnect?: ReconnectOptions
  /** Client `ping` interval while open (WS only); 0 disables. Default 30000. */
  pingIntervalMs?: number
  /**
   * A connection that receives nothing (no event, ping or heartbeat) for this
   * long is considered dead and replaced. Default 75000 (the gateway pings every
   * 30 s over WS and sends heartbeats every 15 s over SSE). 0 disables.
   */
  idleTimeoutMs?: number
  /** A connection that is not open after this long is abandoned and retried. Default 10000. */
  connectTimeoutMs?: number
  /** Default timeout of `control` calls (ms). Default 10000. */
  controlTimeoutMs?: number
}

export type DeliverySource = 'live' | 'catchup'

export interface StateInfo {
  /** Consecutive failed reconnect attempts so far. */
  attempt: number
  /** For `reconnecting`: how long until the next attempt. */
  delayMs?: number
  /**
   * Close code of the WebSocket that ended (4008 slow consumer, 4002 ping
   * timeout, 4010 streams lost, 1001 going away, …), or the HTTP status of a
   * refused SSE request. The client reconnects and resumes whatever the code.
   */
  code?: number
  reason?: string
  error?: VerisimClientError
}

export interface SubscribedInfo {
  /** Every topic the connection is now subscribed to. */
  topics: string[]
  epoch: string | null
  /** The gateway's frontier when it subscribed. */
  lastId: string | null
}

export interface ResetInfo {
  reason: CatchupReason
  /** The resume point that could not be honoured. */
  lastId: string | null
  /** The current stream epoch, when known (WS). */
  epoch: string | null
}

export interface ClientStats {
  /** Events handed to listeners. */
  delivered: number
  /** Events dropped because their id was at or below the last delivered one. */
  duplicates: number
  /** Connections opened after the first. */
  reconnects: number
  /** `reset` events emitted. */
  resets: number
}

/**
 * What a typed client knows of a world: each stream's name → the type of its
 * events' `data`. `verisim types --world <w>` writes one (`TutoringEvents` …);
 * pass it as `createClient<TutoringEvents>(…)`. The constraint only asks for
 * object data, so generated interfaces fit without an index signature.
 */
export type StreamDataMap<M> = { [S in keyof M]: object }

/** The map of an untyped client (the default): any stream name, any data. */
export type AnyStreams = Record<string, Record<string, unknown>>

/**
 * The stream names `on(name, …)` accepts: the map's names, or for an untyped
 * client any dotted name (stream names always have a dot; the client's own
 * events never do).
 */
export type StreamName<M> = string extends keyof M
  ? `${string}.${string}`
  : Extract<keyof M, string>

/** An event of stream `S` in a typed client: `stream` is the name, `data` the stream's type. */
export interface TypedStreamEvent<S extends string, D> extends Omit<
  StreamEvent,
  'stream' | 'data'
> {
  stream: S
  data: D
}

/**
 * The event type a client with map `M` delivers for stream(s) `S`: the union of
 * the streams' events (narrow it on `e.stream`), or the untyped `StreamEvent`
 * for the default map.
 */
export type StreamEventOf<M, S = keyof M> = string extends keyof M
  ? StreamEvent
  : S extends keyof M & string
    ? TypedStreamEvent<S, M[S]>
    : never

/**
 * Events a client emits, as `name: [listener arguments]`; `M` types the events
 * (see {@link StreamDataMap}). Besides these, `on('<stream name>', fn)` hears
 * the events of one stream.
 *
 * Events come in strictly increasing `id` order across reconnects; an id at or
 * below the last delivered one is never delivered again.
 */
export type ClientEvents<M = AnyStreams> = {
  /** One event, in id order. */
  event: [event: StreamEventOf<M>]
  /** The events of one server frame (or SSE chunk) after dedupe, before their `event` emissions. Never empty. */
  batch: [events: StreamEventOf<M>[], info: { source: DeliverySource }]
  /** Connection state changed. */
  state: [state: ConnectionState, info: StateInfo]
  /** A server error not tied to a call, or a connection problem. The client carries on unless it says `closed`. */
  error: [error: VerisimClientError]
  /**
   * The resume point is lost (`too_old`: older than retention; `epoch_changed`:
   * the streams were lost since). Events continue from the present; reload
   * history (REST) to fill what is missing.
   */
  reset: [info: ResetInfo]
  /** A simulation `state_update` broadcast (WS). */
  control: [payload: Record<string, unknown>]
  /** A `subscribed` acknowledgement (WS), incl. each reconnect's re-subscribe. */
  subscribed: [info: SubscribedInfo]
  /**
   * Recent events sent when subscribing without a resume point: the last 10 of
   * each newly matched stream, oldest first (possibly empty). They are context,
   * not part of the delivered sequence: they are not emitted as `event`s and do
   * not move `lastId`; live events follow them without a gap.
   */
  snapshot: [events: StreamEventOf<M>[]]
  /** Events of a replay this client subscribed to (`replay:<id>`), each marked `replay: true`; progress comes as `simulation.replay` events. Not part of the live sequence. */
  replay: [info: { topic: string; events: StreamEventOf<M>[] }]
}

// --- the archive (docs/API.md "The archive") -------------------------------------

export interface ArchiveEventsQuery {
  /** Topics as for subscriptions, comma-separated or an array. */
  stream?: string | string[]
  start?: string | Date
  end?: string | Date
  entity?: string
  limit?: number
  cursor?: string
  epoch?: string
}

export interface ArchiveEventsPage {
  epoch: string
  events: StreamEvent[]
  nextCursor: string | null
  /** `archive+redis` when the newest events came from the streams (the archive lags). */
  source: 'archive' | 'archive+redis'
}

export interface JourneyQuery {
  start?: string | Date
  end?: string | Date
  /** Only these streams in `events`. */
  types?: string | string[]
  limit?: number
  cursor?: string
  epoch?: string
}

export interface Journey {
  entityId: string
  epoch: string
  total: number
  first: string | null
  last: string | null
  streams: Record<string, number>
  milestones: { name: string; label: string; at: string; eventId: string; stream: string }[]
  context: StreamEvent[]
  events: StreamEvent[]
  nextCursor: string | null
}

export interface AggregateQuery {
  time_range?: string
  start?: string | Date
  end?: string | Date
  group_by?: 'hour' | 'day' | 'stream' | 'channel' | 'anomaly_flag'
  stream?: string | string[]
  epoch?: string
}

export interface AggregateKpi {
  name: string
  label: string
  value: number | null
}

export interface Aggregate {
  epoch: string
  start: string | null
  end: string | null
  group_by: string
  total: number
  groups: {
    key: string
    events: number
    warning: number
    critical: number
    meanNormalizedValue: number | null
    kpis: AggregateKpi[]
  }[]
  kpis: AggregateKpi[]
}

export interface ReplayRequest {
  start: string
  end: string
  channel?: string
  streams?: string[]
  /** Simulated seconds per wall second. */
  speed?: number
  epoch?: string
}

export interface ReplayStatus {
  id: string
  /** `replay:<id>`: subscribe to it. */
  topic: string
  state: 'running' | 'done' | 'cancelled' | 'failed'
  total: number
  sent: number
  progress: number
  start: string
  end: string
  speed: number
  channel: string | null
  streams: string[] | null
  epoch: string
  createdAt: string
  finishedAt: string | null
  error: string | null
}
