/**
 * @verisim/client — typed Verisim client for browsers and Node over WebSocket
 * and SSE: reconnect with backoff and jitter, gap-free resume from the last
 * delivered id, dedupe, connection-state events and control calls.
 * No runtime dependencies; in Node 20 pass `WebSocket` from `ws`.
 */

// Client
export { createClient, VerisimClient, MAX_TOPICS, type ControlOptions } from './client.js'

// Options, events and shared types
export type {
  AnyStreams,
  StreamDataMap,
  StreamEventOf,
  StreamName,
  TypedStreamEvent,
  ClientEvents,
  ClientOptions,
  ClientStats,
  ConnectionState,
  DeliverySource,
  ResetInfo,
  StateInfo,
  SubscribedInfo,
  Transport,
  WebSocketConstructor,
  WebSocketLike,
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
  ArchiveEventsQuery,
  ArchiveEventsPage,
  JourneyQuery,
  Journey,
  AggregateQuery,
  Aggregate,
  AggregateKpi,
  ReplayRequest,
  ReplayStatus,
} from './types.js'
export type { ReconnectOptions } from './backoff.js'
export type { Listener } from './emitter.js'

// Errors
export { ClientErrorCode, VerisimClientError, type VerisimErrorCode } from './errors.js'

// Building blocks (usable on their own)
export { compareIds, isEventId } from './ids.js'
export { backoffDelay } from './backoff.js'
export { SseParser, type SseMessage } from './sse-parser.js'
