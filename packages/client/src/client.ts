/**
 * The Verisim client: one logical subscription kept alive across connections.
 *
 * It owns the resume cursor (the last delivered event id), the topic set, the
 * reconnect schedule and pending control calls; a connection (`WsConn` or
 * `SseConn`) lives from one open to its drop and is discarded after. Every
 * callback checks that its connection is still the current one, so a frame
 * that arrives on a socket the client has already given up on is ignored: what
 * it carried comes again through the next connection's catch-up, which resumes
 * from the last id actually delivered.
 */
import type {
  CatchupReason,
  ControlAction,
  StreamEvent,
  WorldActionResult,
  WorldDescription,
  SavedSnapshotMeta,
  SnapshotList,
  TimelineList,
  TimelineSwitch,
  TravelPreview,
} from '@verisim/schema'
import { backoffDelay, resolveReconnect, type ResolvedReconnect } from './backoff.js'
import { Emitter, type Listener } from './emitter.js'
import { ClientErrorCode, VerisimClientError } from './errors.js'
import { compareIds, isEventId } from './ids.js'
import { SseParser, type SseMessage } from './sse-parser.js'
import type {
  Aggregate,
  AggregateQuery,
  AnyStreams,
  ArchiveEventsPage,
  ArchiveEventsQuery,
  ClientEvents,
  Journey,
  JourneyQuery,
  ReplayRequest,
  ReplayStatus,
  ClientOptions,
  ClientStats,
  ConnectionState,
  DeliverySource,
  StateInfo,
  StreamDataMap,
  StreamEventOf,
  StreamName,
  Transport,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js'

/** Most topics one subscribe may carry (the gateway's `MAX_TOPICS_PER_MESSAGE`). */
export const MAX_TOPICS = 100

const WS_OPEN = 1
const WS_CONNECTING = 0
/** Gateway codes that mean "this subscribe was refused". */
const SUBSCRIBE_FAILURES = new Set([
  'VS_GW_UNKNOWN_TOPIC',
  'VS_GW_INVALID_MESSAGE',
  'VS_GW_BAD_MESSAGE',
  'VS_GW_INTERNAL',
])
const INTERNAL = 'VS_GW_INTERNAL'
/** A restore or a travel reads a snapshot, encodes one and re-simulates: seconds (more far ahead). */
const SWITCH_TIMEOUT_MS = 120_000
/** Gateway codes worth retrying the same call for. */
const RETRYABLE = new Set([INTERNAL, 'VS_GW_CONTROL_TIMEOUT'])

type Timer = ReturnType<typeof setTimeout>

interface TopicOp {
  kind: 'subscribe' | 'unsubscribe'
  topics: string[]
  resolve(topics: string[]): void
  reject(err: VerisimClientError): void
}

/**
 * Topic requests, whose answers (`subscribed`, `unsubscribed`, or an `error`
 * without a `requestId`) the gateway sends in order: it handles a socket's
 * frames one at a time. Controls are not in here: their answers carry the
 * `requestId` and may overtake topic answers.
 */
type SentOp = TopicOp | { kind: 'handshake' }

interface PendingControl {
  frame: string
  resolve(result: unknown): void
  reject(err: VerisimClientError): void
  timer: Timer
}

interface DropInfo {
  code?: number
  reason?: string
  error?: VerisimClientError
}

/** A loosely typed server frame; fields are checked where read. */
interface Frame {
  type: string
  [key: string]: unknown
}

class WsConn {
  readonly kind = 'ws'
  open = false
  /** Answers still owed by the gateway, in send order. */
  ops: SentOp[] = []
  /** Between a resuming subscribe and its last `catchup` frame. */
  catchingUp = false
  /** Live events that arrived while catching up (delivered after it). */
  held: unknown[] = []
  /** The cursor this connection resumed from. */
  resumedFrom: string | null = null
  /** A `reset` was already emitted for this connection's handshake. */
  resetInHandshake = false
  lastHeard = Date.now()
  timers: Timer[] = []
  intervals: Timer[] = []
  readonly closed: Promise<void>
  #markClosed!: () => void

  constructor(readonly ws: WebSocketLike) {
    this.closed = new Promise((resolve) => (this.#markClosed = resolve))
  }

  markClosed(): void {
    this.#markClosed()
  }

  send(msg: object): void {
    this.sendRaw(JSON.stringify(msg))
  }

  sendRaw(frame: string): void {
    if (this.ws.readyState === WS_OPEN) this.ws.send(frame)
  }

  /** Ends the connection: gracefully (close handshake) or abruptly when the socket can be dropped. */
  stop(graceful: boolean, waitMs: number): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    for (const t of this.intervals) clearInterval(t)
    const ws = this.ws
    if (ws.readyState !== WS_OPEN && ws.readyState !== WS_CONNECTING) return Promise.resolve()
    if (!graceful && ws.terminate) {
      ws.terminate()
      return this.closed
    }
    try {
      ws.close(1000, 'client closing')
    } catch {
      // Some implementations throw while CONNECTING; the socket is discarded either way.
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        ws.terminate?.()
        resolve()
      }, waitMs)
      void this.closed.then(() => {
        clearTimeout(t)
        resolve()
      })
    })
  }
}

class SseConn {
  readonly kind = 'sse'
  open = false
  readonly abort = new AbortController()
  resumedFrom: string | null = null
  lastHeard = Date.now()
  timers: Timer[] = []
  intervals: Timer[] = []
  done: Promise<void> = Promise.resolve()

  stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    for (const t of this.intervals) clearInterval(t)
    this.abort.abort()
    return this.done
  }
}

type Conn = WsConn | SseConn

interface Resolved {
  url: string
  transport: Transport
  WebSocket: WebSocketConstructor | undefined
  fetch: typeof fetch | undefined
  token: string | undefined
  reconnect: ResolvedReconnect
  pingIntervalMs: number
  idleTimeoutMs: number
  connectTimeoutMs: number
  controlTimeoutMs: number
  snapshot: boolean
}

function invalid(message: string): VerisimClientError {
  return new VerisimClientError(ClientErrorCode.invalidOption, message)
}

function checkTopics(topics: unknown, what: string): string[] {
  if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw invalid(`${what} must be an array of non-empty strings`)
  }
  return [...new Set(topics as string[])]
}

/**
 * The URL of a REST `path` beside the streaming endpoint: the scheme switched to
 * http(s), a trailing `/ws` or `/sse` dropped (a gateway behind a path prefix keeps it).
 */
export function restUrl(raw: string, path: string): string {
  const base = typeof location === 'undefined' ? undefined : location.href
  const u = new URL(raw, base)
  if (u.protocol === 'ws:') u.protocol = 'http:'
  else if (u.protocol === 'wss:') u.protocol = 'https:'
  const prefix = u.pathname.replace(/\/(ws|sse)\/?$/, '').replace(/\/+$/, '')
  const q = path.indexOf('?')
  u.pathname = `${prefix}${q < 0 ? path : path.slice(0, q)}`
  u.search = q < 0 ? '' : path.slice(q)
  u.hash = ''
  return u.toString()
}

/** Builds the endpoint URL for a transport, switching the scheme and adding the default path. */
export function endpointUrl(
  raw: string,
  transport: Transport,
  query: Record<string, string | undefined>,
): string {
  const base = typeof location === 'undefined' ? undefined : location.href
  const u = new URL(raw, base)
  if (transport === 'ws') {
    if (u.protocol === 'http:') u.protocol = 'ws:'
    else if (u.protocol === 'https:') u.protocol = 'wss:'
  } else if (u.protocol === 'ws:') u.protocol = 'http:'
  else if (u.protocol === 'wss:') u.protocol = 'https:'
  if (u.pathname === '' || u.pathname === '/') u.pathname = transport === 'ws' ? '/ws' : '/sse'
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, v)
  return u.toString()
}

function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes)
  if (typeof crypto !== 'undefined' && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(buf)
  } else {
    for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256)
  }
  let out = ''
  for (const b of buf) out += b.toString(16).padStart(2, '0')
  return out
}

/** Marks a promise as handled, so a caller that ignores it does not get an unhandled rejection. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {})
  return p
}

export interface ControlOptions {
  /** Overrides `controlTimeoutMs` for this call. */
  timeoutMs?: number
}

/**
 * A Verisim streaming client. Create it with `createClient`; it connects on the
 * next microtask, so listeners added right after creation see every event.
 * `M` types the events by stream (see `StreamDataMap`; default: untyped data).
 */
export class VerisimClient<M extends StreamDataMap<M> = AnyStreams> {
  readonly #o: Resolved
  readonly #emitter: Emitter<ClientEvents>
  /** Listeners of one stream, by its name (`on('session.completed', …)`). */
  readonly #byStream: Emitter<Record<string, [StreamEvent]>>
  readonly #requestPrefix = randomHex(8)
  #requestSeq = 0
  #state: ConnectionState = 'connecting'
  #topics: Set<string>
  /** Last delivered id: the dedupe floor and the resume cursor. */
  #lastId: string | null
  /** The gateway frontier at the last `subscribed`: the resume cursor while nothing was delivered yet. */
  #frontier: string | null = null
  #epoch: string | null = null
  #conn: Conn | null = null
  #attempt = 0
  #everOpened = false
  #started = false
  #reconnectTimer: Timer | null = null
  /** Topic changes asked for while no connection was open (WS). */
  #deferred: TopicOp[] = []
  /** Topic changes waiting for the restarted SSE stream to open. */
  #sseWaiters: TopicOp[] = []
  readonly #controls = new Map<string, PendingControl>()
  #closed = false
  #closing: Promise<void> | null = null
  readonly #stats: ClientStats = { delivered: 0, duplicates: 0, reconnects: 0, resets: 0 }

  constructor(options: ClientOptions) {
    if (!options || typeof options.url !== 'string') throw invalid('url is required')
    const transport = options.transport ?? 'ws'
    if (transport !== 'ws' && transport !== 'sse')
      throw invalid(`transport must be "ws" or "sse", got ${String(transport)}`)
    const topics = checkTopics(options.topics ?? [], 'topics')
    if (topics.length > MAX_TOPICS)
      throw invalid(`at most ${MAX_TOPICS} topics, got ${topics.length}`)
    if (transport === 'sse' && topics.length === 0)
      throw invalid('the SSE transport needs at least one topic')
    const lastId = options.lastId ?? null
    if (lastId !== null && !isEventId(lastId))
      throw invalid(`lastId ${JSON.stringify(lastId)} is not an event id ("<ms>-<seq>")`)
    try {
      endpointUrl(options.url, transport, {})
    } catch (err) {
      throw new VerisimClientError(
        ClientErrorCode.invalidOption,
        `url ${JSON.stringify(options.url)} is not a valid URL`,
        { cause: err },
      )
    }
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (transport === 'ws' && typeof WS !== 'function') {
      throw invalid(
        'no WebSocket implementation: Node 20 has no global WebSocket; pass one, e.g. `import WebSocket from "ws"; createClient({ url, WebSocket })`',
      )
    }
    const fetchImpl =
      options.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined)
    if (transport === 'sse' && typeof fetchImpl !== 'function')
      throw invalid('the SSE transport needs `fetch`; pass one as `fetch`')
    let reconnect: ResolvedReconnect
    try {
      reconnect = resolveReconnect(options.reconnect)
    } catch (err) {
      throw new VerisimClientError(ClientErrorCode.invalidOption, (err as Error).message)
    }
    this.#o = {
      url: options.url,
      transport,
      WebSocket: WS,
      fetch: fetchImpl,
      token: options.token,
      reconnect,
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 75_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      controlTimeoutMs: options.controlTimeoutMs ?? 10_000,
      snapshot: options.snapshot !== false,
    }
    this.#topics = new Set(topics)
    this.#lastId = lastId
    this.#emitter = new Emitter<ClientEvents>((err, event) => this.#listenerFailed(err, event))
    this.#byStream = new Emitter<Record<string, [StreamEvent]>>((err, stream) =>
      this.#listenerFailed(err, stream),
    )
    queueMicrotask(() => this.#connect())
  }

  // ── state ────────────────────────────────────────────────────────────────

  get connectionState(): ConnectionState {
    return this.#state
  }

  /** Id of the last event delivered (or the `lastId` option until one is); persist it to resume later. */
  get lastId(): string | null {
    return this.#lastId
  }

  /** The topics the client keeps subscribed (as acknowledged by the gateway). */
  get topics(): string[] {
    return [...this.#topics]
  }

  /** The stream epoch reported by the gateway (WS), or null before the first `subscribed`. */
  get epoch(): string | null {
    return this.#epoch
  }

  get transport(): Transport {
    return this.#o.transport
  }

  get stats(): Readonly<ClientStats> {
    return { ...this.#stats }
  }

  // ── events ───────────────────────────────────────────────────────────────

  /**
   * Adds a listener; returns a function that removes it. Besides the client's
   * events (`event`, `batch`, `state` …), a stream's exact name hears the
   * events of that stream only, right after their `event` emission; with a
   * typed client (`createClient<TutoringEvents>(…)`) `e.stream` is the name and
   * `e.data` the stream's interface.
   *
   * @example
   * const off = client.on('event', (e) => console.log(e.id, e.stream))
   * client.on('session.completed', (e) => console.log(e.data.tutorId))
   */
  on<K extends keyof ClientEvents<M>>(event: K, listener: Listener<ClientEvents<M>[K]>): () => void
  on<S extends StreamName<M>>(stream: S, listener: (event: StreamEventOf<M, S>) => void): () => void
  on(name: string, listener: Listener<never[]>): () => void {
    return this.#listeners(name).on(name, listener as Listener<never>)
  }

  off<K extends keyof ClientEvents<M>>(event: K, listener: Listener<ClientEvents<M>[K]>): void
  off<S extends StreamName<M>>(stream: S, listener: (event: StreamEventOf<M, S>) => void): void
  off(name: string, listener: Listener<never[]>): void {
    this.#listeners(name).off(name, listener as Listener<never>)
  }

  once<K extends keyof ClientEvents<M>>(
    event: K,
    listener: Listener<ClientEvents<M>[K]>,
  ): () => void
  once<S extends StreamName<M>>(
    stream: S,
    listener: (event: StreamEventOf<M, S>) => void,
  ): () => void
  once(name: string, listener: Listener<never[]>): () => void {
    return this.#listeners(name).once(name, listener as Listener<never>)
  }

  /** The emitter of `name`: a stream's (it has a dot) or the client's own. */
  #listeners(name: string): Emitter<Record<string, never>> {
    if (typeof name !== 'string' || !name.includes('.'))
      return this.#emitter as unknown as Emitter<Record<string, never>>
    if (name.includes('*'))
      throw invalid(
        `listen to a stream by its exact name, not ${JSON.stringify(name)}; use on('event', …) and e.stream for patterns`,
      )
    return this.#byStream as unknown as Emitter<Record<string, never>>
  }

  // ── calls ────────────────────────────────────────────────────────────────

  /**
   * Adds topics. Resolves with every subscribed topic once the gateway
   * acknowledged them (on the next connection when offline); rejects with the
   * gateway's error (e.g. `VS_GW_UNKNOWN_TOPIC`, nothing added) or on `close()`.
   * New topics start live; over SSE the stream restarts and resumes from `lastId`.
   */
  subscribe(topics: readonly string[]): Promise<string[]> {
    return quiet(
      new Promise<string[]>((resolve, reject) => {
        if (this.#closed) return reject(this.#closedError())
        const list = checkTopics(topics, 'topics')
        const added = list.filter((t) => !this.#topics.has(t))
        if (this.#topics.size + added.length > MAX_TOPICS) {
          return reject(
            invalid(
              `at most ${MAX_TOPICS} topics; this would make ${this.#topics.size + added.length}`,
            ),
          )
        }
        if (added.length === 0) return resolve(this.topics)
        const op: TopicOp = { kind: 'subscribe', topics: added, resolve, reject }
        if (this.#o.transport === 'sse') {
          for (const t of added) this.#topics.add(t)
          this.#sseWaiters.push(op)
          this.#restartSse()
          return
        }
        const conn = this.#openWs()
        if (conn) this.#sendOp(conn, op)
        else this.#deferred.push(op)
      }),
    )
  }

  /**
   * Removes topics. Resolves with the topics that were removed. Over SSE the
   * stream restarts (resuming from `lastId`), and the last topic cannot be
   * removed: `close()` the client instead.
   */
  unsubscribe(topics: readonly string[]): Promise<string[]> {
    return quiet(
      new Promise<string[]>((resolve, reject) => {
        if (this.#closed) return reject(this.#closedError())
        const list = checkTopics(topics, 'topics')
        const drop = new Set(list)
        const removed = list.filter((t) => this.#topics.has(t))
        if (this.#o.transport === 'sse') {
          if (removed.length === 0) return resolve([])
          if (removed.length === this.#topics.size) {
            return reject(
              invalid('the SSE transport needs at least one topic; close() the client instead'),
            )
          }
          for (const t of removed) this.#topics.delete(t)
          this.#sseWaiters.push({ kind: 'unsubscribe', topics: removed, resolve, reject })
          this.#restartSse()
          return
        }
        for (const t of removed) this.#topics.delete(t)
        // A subscribe still waiting for a connection must not bring them back.
        this.#deferred = this.#deferred.filter((op) => {
          op.topics = op.topics.filter((t) => !drop.has(t))
          if (op.topics.length > 0) return true
          op.resolve(this.topics)
          return false
        })
        const conn = this.#openWs()
        if (conn) this.#sendOp(conn, { kind: 'unsubscribe', topics: list, resolve, reject })
        else resolve(removed)
      }),
    )
  }

  /**
   * Sends an admin `control` message (WS only). Resolves with the `ack`'s
   * `result`; rejects on an `error` for this request, an `ack` with
   * `success: false` (`VS_CLIENT_CONTROL_FAILED`), the timeout, or `close()`.
   * Sent when a connection is open, and sent again with the same `requestId`
   * if the connection drops before the answer (the gateway applies a
   * `requestId` once).
   *
   * @example
   * const state = await client.control('get_state')
   * await client.control('set_speed', { multiplier: 5 })
   */
  control(
    action: ControlAction,
    payload?: Record<string, unknown>,
    opts: ControlOptions = {},
  ): Promise<unknown> {
    return quiet(
      new Promise<unknown>((resolve, reject) => {
        if (this.#closed) return reject(this.#closedError())
        if (this.#o.transport !== 'ws') {
          return reject(
            new VerisimClientError(
              ClientErrorCode.notSupported,
              'control needs the WebSocket transport; SSE is read-only',
            ),
          )
        }
        const requestId = `${this.#requestPrefix}-${++this.#requestSeq}`
        const frame = JSON.stringify({
          type: 'control',
          requestId,
          action,
          ...(payload === undefined ? {} : { payload }),
        })
        const timeoutMs = opts.timeoutMs ?? this.#o.controlTimeoutMs
        const timer = setTimeout(() => {
          this.#controls.delete(requestId)
          reject(
            new VerisimClientError(
              ClientErrorCode.timeout,
              `control "${action}" got no answer within ${timeoutMs} ms`,
              {
                requestId,
                canRetry: true,
              },
            ),
          )
        }, timeoutMs)
        this.#controls.set(requestId, { frame, resolve, reject, timer })
        this.#openWs()?.sendRaw(frame)
      }),
    )
  }

  /**
   * The running world as `GET /api/world` describes it: id, model, channels,
   * streams, segments, the actions with the JSON Schema of each payload, and
   * the keys of its figures (`stats` in the simulation state). Over HTTP
   * whatever the transport; rejects with the gateway's error code
   * (`VS_GW_NOT_READY`, status 503, until the generator has started).
   *
   * @example
   * const world = await client.world()
   * world.actions.map((a) => a.name) // ['spawn_students']
   */
  world(opts: ControlOptions = {}): Promise<WorldDescription> {
    return quiet(this.#rest<WorldDescription>('GET', '/api/world', undefined, opts))
  }

  /**
   * Applies a world action (e.g. tutoring's `spawn_students`) with its payload.
   * Over WS: the control action `world_action` (as {@link control}, with its
   * `requestId` resend). Over SSE, whose stream is read-only:
   * `POST /api/world/actions/:name` with the token as `Authorization: Bearer`
   * and an `Idempotency-Key`. Resolves with the action's result and the world's
   * figures after it; rejects with `VS_SIM_UNKNOWN_ACTION` (404) for an action
   * the world lacks, `VS_SIM_BAD_ARGUMENT` (400, naming the field) for a payload
   * it refuses, `VS_GW_UNAUTHORIZED` without the admin token.
   *
   * @example
   * const r = await client.worldAction('spawn_students', { count: 5 })
   * r.result.spawned // 5
   */
  worldAction(
    name: string,
    payload: Record<string, unknown> = {},
    opts: ControlOptions = {},
  ): Promise<WorldActionResult> {
    if (this.#o.transport === 'ws')
      return this.control('world_action', { name, payload }, opts) as Promise<WorldActionResult>
    return quiet(
      this.#rest<WorldActionResult>(
        'POST',
        `/api/world/actions/${encodeURIComponent(name)}`,
        payload,
        opts,
        `${this.#requestPrefix}-${++this.#requestSeq}`,
      ),
    )
  }

  // --- snapshots, restore and time travel (docs/API.md "Time travel") ------------

  /**
   * Saves the engine now under `name`. Over WS: the control action
   * `create_snapshot`; over SSE: `POST /api/simulation/snapshot` (token, Idempotency-Key).
   * Rejects with `VS_GEN_SNAPSHOT_LIMIT` (409) when the generator keeps as many as it may.
   *
   * @example
   * const snap = await client.snapshot('before the outage')
   * snap.id // 'snap_2'
   */
  snapshot(
    name: string,
    description?: string,
    opts: ControlOptions = {},
  ): Promise<SavedSnapshotMeta> {
    const body = { name, ...(description === undefined ? {} : { description }) }
    return this.#timeCall('create_snapshot', body, 'POST', '/api/simulation/snapshot', opts)
  }

  /** The saved snapshots, the automatic ones and the current timeline (`list_snapshots`, `GET /api/simulation/snapshots`). */
  snapshots(opts: ControlOptions = {}): Promise<SnapshotList> {
    return this.#timeCall('list_snapshots', {}, 'GET', '/api/simulation/snapshots', opts)
  }

  /** Deletes a saved snapshot (`delete_snapshot`, `DELETE /api/simulation/snapshots/:id`); the run's start is kept (409). */
  deleteSnapshot(id: string, opts: ControlOptions = {}): Promise<{ deleted: string }> {
    return this.#timeCall(
      'delete_snapshot',
      { id },
      'DELETE',
      `/api/simulation/snapshots/${encodeURIComponent(id)}`,
      opts,
    )
  }

  /**
   * Continues the run from a saved snapshot: a new timeline. The streams get a
   * new epoch, so this client is closed and resumes by itself, emitting `reset`
   * (`epoch_changed`). `restore_snapshot`, `POST /api/simulation/restore/:id`;
   * waits up to 2 minutes unless `timeoutMs` says otherwise.
   *
   * @example
   * const line = await client.restore('snap_2')
   * line.timeline.id // 'tl_2'
   */
  restore(id: string, opts: ControlOptions = {}): Promise<TimelineSwitch> {
    return this.#timeCall(
      'restore_snapshot',
      { id },
      'POST',
      `/api/simulation/restore/${encodeURIComponent(id)}`,
      { timeoutMs: SWITCH_TIMEOUT_MS, ...opts },
    )
  }

  /**
   * Takes the run to `targetTime` exactly and pauses there (a new timeline, as
   * {@link restore}); with `dryRun`, previews the state and the events around it
   * instead, switching nothing. `travel`, `POST /api/simulation/travel`.
   *
   * @example
   * const preview = await client.travel('2026-03-02T09:00:00Z', { dryRun: true })
   * preview.events.after.length
   */
  travel(targetTime: string | Date, opts: ControlOptions & { dryRun: true }): Promise<TravelPreview>
  travel(
    targetTime: string | Date,
    opts?: ControlOptions & { dryRun?: false },
  ): Promise<TimelineSwitch>
  travel(
    targetTime: string | Date,
    opts: ControlOptions & { dryRun?: boolean } = {},
  ): Promise<TimelineSwitch | TravelPreview> {
    const { dryRun, ...rest } = opts
    const body = {
      targetTime: targetTime instanceof Date ? targetTime.toISOString() : targetTime,
      ...(dryRun === true ? { dryRun: true } : {}),
    }
    return this.#timeCall('travel', body, 'POST', '/api/simulation/travel', {
      timeoutMs: SWITCH_TIMEOUT_MS,
      ...rest,
    })
  }

  /** The current timeline and those a restore or a travel left, with their commands (`list_timelines`, `GET /api/simulation/timelines`). */
  timelines(opts: ControlOptions = {}): Promise<TimelineList> {
    return this.#timeCall('list_timelines', {}, 'GET', '/api/simulation/timelines', opts)
  }

  // --- the archive (docs/API.md "The archive") ------------------------------------

  /**
   * Events of the whole run from the archive (`GET /api/events`): by topic,
   * simulation time and entity id, a page at a time (pass `nextCursor` back as
   * `cursor`). Rejects with `VS_GW_ARCHIVE_UNAVAILABLE` (503) without an archive.
   *
   * @example
   * const page = await client.archiveEvents({ stream: 'session.*', entity: 's_42', limit: 500 })
   */
  archiveEvents(
    query: ArchiveEventsQuery = {},
    opts: ControlOptions = {},
  ): Promise<ArchiveEventsPage> {
    return quiet(this.#rest('GET', `/api/events${queryString(query)}`, undefined, opts))
  }

  /**
   * One entity's journey (`GET /api/journeys/:entityId`): its events in order,
   * counts per stream, the world's milestones and what acted on the world meanwhile.
   *
   * @example
   * const j = await client.journey('s_42')
   * j.milestones.map((m) => m.name) // ['signup', 'first_search', 'first_booking', …]
   */
  journey(entityId: string, query: JourneyQuery = {}, opts: ControlOptions = {}): Promise<Journey> {
    return quiet(
      this.#rest(
        'GET',
        `/api/journeys/${encodeURIComponent(entityId)}${queryString(query)}`,
        undefined,
        opts,
      ),
    )
  }

  /** Aggregates over the archive (`GET /api/metrics/aggregate`): counts, anomaly shares and the world's key figures. */
  aggregate(query: AggregateQuery = {}, opts: ControlOptions = {}): Promise<Aggregate> {
    return quiet(this.#rest('GET', `/api/metrics/aggregate${queryString(query)}`, undefined, opts))
  }

  /**
   * Replays an archived range on the topic `replay:<id>` at `speed`
   * (`POST /api/streams/replay`, admin token). Subscribe to `status.topic` to get
   * its events as `replay` emissions (WS).
   *
   * @example
   * const r = await client.replay({ start: '2026-03-02T08:00:00Z', end: '2026-03-02T09:00:00Z', speed: 60 })
   * client.on('replay', ({ topic, events }) => …)
   * await client.subscribe([r.topic])
   */
  replay(request: ReplayRequest, opts: ControlOptions = {}): Promise<ReplayStatus> {
    return quiet(
      this.#rest(
        'POST',
        '/api/streams/replay',
        request,
        opts,
        `${this.#requestPrefix}-${++this.#requestSeq}`,
      ),
    )
  }

  /** A replay's status (`GET /api/streams/replay/:id`). */
  replayStatus(id: string, opts: ControlOptions = {}): Promise<ReplayStatus> {
    return quiet(
      this.#rest('GET', `/api/streams/replay/${encodeURIComponent(id)}`, undefined, opts),
    )
  }

  /** Cancels a replay (`DELETE /api/streams/replay/:id`, admin token). */
  cancelReplay(id: string, opts: ControlOptions = {}): Promise<ReplayStatus> {
    return quiet(
      this.#rest(
        'DELETE',
        `/api/streams/replay/${encodeURIComponent(id)}`,
        undefined,
        opts,
        `${this.#requestPrefix}-${++this.#requestSeq}`,
      ),
    )
  }

  /** A time-travel call: the control action over WS, its REST route over SSE (read-only stream). */
  #timeCall<T>(
    action: ControlAction,
    payload: Record<string, unknown>,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    opts: ControlOptions,
  ): Promise<T> {
    if (this.#o.transport === 'ws') return this.control(action, payload, opts) as Promise<T>
    return quiet(
      this.#rest<T>(
        method,
        path,
        method === 'POST' ? payload : undefined,
        opts,
        method === 'GET' ? undefined : `${this.#requestPrefix}-${++this.#requestSeq}`,
      ),
    )
  }

  /** A JSON request to the gateway's REST API; its error body becomes a `VerisimClientError`. */
  async #rest<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: unknown,
    opts: ControlOptions,
    idempotencyKey?: string,
  ): Promise<T> {
    if (this.#closed) throw this.#closedError()
    const fetchImpl = this.#o.fetch
    if (typeof fetchImpl !== 'function')
      throw new VerisimClientError(
        ClientErrorCode.notSupported,
        'REST calls need `fetch`; pass one as `fetch`',
      )
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (this.#o.token !== undefined) headers.authorization = `Bearer ${this.#o.token}`
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey
    const timeoutMs = opts.timeoutMs ?? this.#o.controlTimeoutMs
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), timeoutMs)
    let res: Response
    try {
      res = await fetchImpl(restUrl(this.#o.url, path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: abort.signal,
      })
      if (!res.ok) throw await this.#httpError(res)
      return (await res.json()) as T
    } catch (err) {
      if (err instanceof VerisimClientError) throw err
      throw abort.signal.aborted
        ? new VerisimClientError(
            ClientErrorCode.timeout,
            `${method} ${path} got no answer within ${timeoutMs} ms`,
            { canRetry: true, cause: err },
          )
        : new VerisimClientError(ClientErrorCode.http, `${method} ${path} failed`, {
            canRetry: true,
            cause: err,
          })
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Stops the client: no more events or reconnects; pending calls reject with
   * `VS_CLIENT_CLOSED`. Idempotent; resolves once the connection is closed.
   */
  close(): Promise<void> {
    return this.#shutdown()
  }

  // ── connection lifecycle ─────────────────────────────────────────────────

  #connect(): void {
    this.#reconnectTimer = null
    if (this.#closed || this.#conn) return
    if (!this.#started) {
      // Announced here rather than in the constructor, so listeners added right after creation see it.
      this.#started = true
      this.#emitter.emit('state', 'connecting', { attempt: 0 })
      if (this.#closed || this.#conn) return
    }
    if (this.#o.transport === 'ws') this.#connectWs()
    else this.#connectSse()
  }

  #scheduleReconnect(info: DropInfo): void {
    if (this.#closed) return
    const r = this.#o.reconnect
    if (this.#attempt >= r.maxAttempts) {
      const error = new VerisimClientError(
        ClientErrorCode.reconnectExhausted,
        `gave up after ${this.#attempt} failed reconnect attempts`,
        { cause: info.error },
      )
      this.#emitter.emit('error', error)
      void this.#shutdown({ ...info, error })
      return
    }
    const delayMs = backoffDelay(r, this.#attempt)
    this.#attempt++
    this.#setState('reconnecting', { ...info, attempt: this.#attempt, delayMs }, true)
    if (this.#closed || this.#conn || this.#reconnectTimer) return
    this.#reconnectTimer = setTimeout(() => this.#connect(), delayMs)
  }

  /** The current connection is gone (or given up on): forget it and reconnect. */
  #dropped(conn: Conn, info: DropInfo): void {
    if (this.#conn !== conn) return
    this.#conn = null
    void (conn.kind === 'ws' ? conn.stop(false, 0) : conn.stop())
    if (conn.kind === 'ws') {
      const again: TopicOp[] = []
      for (const op of conn.ops) {
        if (op.kind === 'subscribe') again.push(op)
        else if (op.kind === 'unsubscribe')
          op.resolve(op.topics.filter((t) => !this.#topics.has(t)))
      }
      this.#deferred = [...again, ...this.#deferred]
      conn.ops = []
      conn.held = []
    }
    this.#scheduleReconnect(info)
  }

  #shutdown(info: DropInfo = {}): Promise<void> {
    if (this.#closing) return this.#closing
    this.#closed = true
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = null
    const conn = this.#conn
    this.#conn = null
    const err = this.#closedError(info.error)
    const ops = [...this.#deferred, ...this.#sseWaiters]
    if (conn?.kind === 'ws')
      for (const op of conn.ops)
        if (op.kind === 'subscribe' || op.kind === 'unsubscribe') ops.push(op)
    this.#deferred = []
    this.#sseWaiters = []
    for (const op of ops) op.reject(err)
    for (const [requestId, c] of this.#controls) {
      clearTimeout(c.timer)
      c.reject(new VerisimClientError(err.code, err.message, { requestId, cause: err.cause }))
    }
    this.#controls.clear()
    this.#setState('closed', { ...info, attempt: this.#attempt })
    const stopped = conn
      ? conn.kind === 'ws'
        ? conn.stop(true, 1000)
        : conn.stop()
      : Promise.resolve()
    this.#closing = stopped.then(() => undefined)
    return this.#closing
  }

  #setState(state: ConnectionState, info: StateInfo, always = false): void {
    if (this.#state === state && !always) return
    if (this.#state === 'closed') return
    this.#state = state
    this.#emitter.emit('state', state, info)
  }

  #closedError(cause?: VerisimClientError): VerisimClientError {
    return new VerisimClientError(
      ClientErrorCode.closed,
      'the client is closed',
      cause ? { cause } : {},
    )
  }

  #watchIdle(conn: Conn): void {
    const idle = this.#o.idleTimeoutMs
    if (idle <= 0) return
    const every = Math.max(20, Math.min(idle / 3, 5000))
    conn.intervals.push(
      setInterval(() => {
        if (Date.now() - conn.lastHeard <= idle) return
        this.#dropped(conn, {
          error: new VerisimClientError(
            ClientErrorCode.connectionLost,
            `nothing received for ${idle} ms`,
            { canRetry: true },
          ),
        })
      }, every),
    )
  }

  #watchConnect(conn: Conn): void {
    const ms = this.#o.connectTimeoutMs
    if (ms <= 0) return
    conn.timers.push(
      setTimeout(() => {
        if (conn.open) return
        this.#dropped(conn, {
          error: new VerisimClientError(
            ClientErrorCode.connectionLost,
            `not open within ${ms} ms`,
            { canRetry: true },
          ),
        })
      }, ms),
    )
  }

  // ── WebSocket ────────────────────────────────────────────────────────────

  /** The current WebSocket connection when it is open. */
  #openWs(): WsConn | null {
    const conn = this.#conn
    return conn?.kind === 'ws' && conn.open ? conn : null
  }

  #connectWs(): void {
    const url = endpointUrl(this.#o.url, 'ws', { token: this.#o.token })
    let ws: WebSocketLike
    try {
      ws = new (this.#o.WebSocket as WebSocketConstructor)(url)
    } catch (err) {
      const conn = new WsConn({ readyState: 3 } as WebSocketLike)
      this.#conn = conn
      this.#dropped(conn, {
        error: new VerisimClientError(
          ClientErrorCode.connectionLost,
          'could not create the WebSocket',
          { cause: err, canRetry: true },
        ),
      })
      return
    }
    const conn = new WsConn(ws)
    this.#conn = conn
    ws.onopen = () => {
      if (this.#conn === conn) this.#wsOpened(conn)
    }
    ws.onmessage = (ev) => {
      if (this.#conn !== conn) return
      conn.lastHeard = Date.now()
      this.#wsFrame(conn, ev.data)
    }
    ws.onclose = (ev) => {
      conn.markClosed()
      if (this.#conn === conn) this.#dropped(conn, { code: ev.code, reason: ev.reason })
    }
    // `close` always follows `error`; the drop is handled there.
    ws.onerror = () => {}
    this.#watchConnect(conn)
  }

  #wsOpened(conn: WsConn): void {
    conn.open = true
    conn.lastHeard = Date.now()
    if (this.#everOpened) this.#stats.reconnects++
    this.#everOpened = true
    if (this.#topics.size > 0) {
      const cursor = this.#lastId ?? this.#frontier
      conn.ops.push({ kind: 'handshake' })
      conn.resumedFrom = cursor
      conn.catchingUp = cursor !== null
      conn.send({
        type: 'subscribe',
        topics: [...this.#topics],
        ...(cursor === null ? {} : { lastId: cursor }),
        ...(cursor === null && !this.#o.snapshot ? { snapshot: 0 } : {}),
      })
    } else {
      this.#attempt = 0
    }
    const deferred = this.#deferred
    this.#deferred = []
    for (const op of deferred) this.#sendOp(conn, op)
    for (const c of this.#controls.values()) conn.sendRaw(c.frame)
    if (this.#o.pingIntervalMs > 0) {
      conn.intervals.push(setInterval(() => conn.send({ type: 'ping' }), this.#o.pingIntervalMs))
    }
    this.#watchIdle(conn)
    this.#setState('open', { attempt: this.#attempt })
  }

  #sendOp(conn: WsConn, op: TopicOp): void {
    conn.ops.push(op)
    conn.send({
      type: op.kind,
      topics: op.topics,
      ...(op.kind === 'subscribe' && !this.#o.snapshot ? { snapshot: 0 } : {}),
    })
  }

  #wsFrame(conn: WsConn, data: unknown): void {
    if (typeof data !== 'string') {
      this.#report(
        new VerisimClientError(ClientErrorCode.badFrame, 'binary frame from the server ignored'),
      )
      return
    }
    let msg: Frame
    try {
      msg = JSON.parse(data) as Frame
    } catch (err) {
      this.#report(
        new VerisimClientError(ClientErrorCode.badFrame, 'frame from the server is not JSON', {
          cause: err,
        }),
      )
      return
    }
    if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string') {
      this.#report(
        new VerisimClientError(ClientErrorCode.badFrame, 'frame from the server has no "type"'),
      )
      return
    }
    switch (msg.type) {
      case 'batch':
        if (Array.isArray(msg.events)) this.#live(conn, msg.events)
        return
      case 'event':
        if (msg.data !== undefined) this.#live(conn, [msg.data])
        return
      case 'catchup':
        return this.#catchup(conn, msg)
      case 'snapshot':
        if (Array.isArray(msg.events)) this.#emitter.emit('snapshot', msg.events as StreamEvent[])
        return
      case 'replay':
        // A replay's events (marked replay: true): apart from the live sequence and its lastId.
        if (typeof msg.topic === 'string' && Array.isArray(msg.events)) {
          this.#emitter.emit('replay', {
            topic: msg.topic,
            events: msg.events as StreamEvent[],
          })
        }
        return
      case 'subscribed':
        return this.#subscribed(conn, msg)
      case 'unsubscribed': {
        const head = conn.ops[0]
        const topics = Array.isArray(msg.topics) ? (msg.topics as string[]) : []
        if (head?.kind !== 'unsubscribe') return
        conn.ops.shift()
        for (const t of head.topics) this.#topics.delete(t)
        head.resolve(topics)
        return
      }
      case 'ping':
        conn.send({ type: 'pong' })
        return
      case 'pong':
        return
      case 'ack':
        return this.#ack(msg)
      case 'state_update':
        if (msg.payload !== null && typeof msg.payload === 'object') {
          this.#emitter.emit('control', msg.payload as Record<string, unknown>)
        }
        return
      case 'error':
        return this.#serverError(conn, msg)
      default:
        // Unknown types are ignored, so a newer gateway can add messages.
        return
    }
  }

  #live(conn: WsConn, events: unknown[]): void {
    if (conn.catchingUp) {
      for (const e of events) conn.held.push(e)
      return
    }
    this.#deliver(events, 'live')
  }

  #catchup(conn: WsConn, msg: Frame): void {
    const reason = msg.reason
    if (reason === 'too_old' || reason === 'epoch_changed') {
      if (!conn.resetInHandshake) this.#reset(reason, conn.resumedFrom)
      conn.resetInHandshake = true
      this.#endCatchup(conn)
      return
    }
    if (Array.isArray(msg.events) && msg.events.length > 0) {
      this.#deliver(msg.events, 'catchup')
      if (this.#conn !== conn) return
    }
    // `complete` is absent on single-frame catch-ups from older gateways.
    if (msg.complete !== false) this.#endCatchup(conn)
  }

  #endCatchup(conn: WsConn): void {
    if (!conn.catchingUp) return
    conn.catchingUp = false
    const held = conn.held
    conn.held = []
    if (held.length > 0) this.#deliver(held, 'live')
  }

  #subscribed(conn: WsConn, msg: Frame): void {
    const head = conn.ops[0]
    const isReply = head !== undefined && (head.kind === 'subscribe' || head.kind === 'handshake')
    if (isReply) conn.ops.shift()
    const topics = Array.isArray(msg.topics) ? (msg.topics as string[]) : []
    // An unsubscribe already sent but not yet answered must not be undone by this list.
    const leaving = new Set<string>()
    for (const op of conn.ops)
      if (op.kind === 'unsubscribe') for (const t of op.topics) leaving.add(t)
    this.#topics = new Set(topics.filter((t) => !leaving.has(t)))
    const epoch = typeof msg.epoch === 'string' ? msg.epoch : null
    if (epoch !== null) {
      const changed = this.#epoch !== null && epoch !== this.#epoch
      this.#epoch = epoch
      if (changed) {
        if (head?.kind === 'handshake') conn.resetInHandshake = true
        this.#reset('epoch_changed', head?.kind === 'handshake' ? conn.resumedFrom : this.#lastId)
      }
    } else if (head?.kind === 'handshake') {
      // No epoch at the gateway (Redis came back empty and the generator has not made
      // one yet): the one known is gone; the catch-up says epoch_changed, and the next
      // connection learns the new one without a second reset.
      this.#epoch = null
    }
    if (this.#conn !== conn) {
      // A `reset` listener closed the client.
      if (isReply && head.kind === 'subscribe') head.reject(this.#closedError())
      return
    }
    if (isEventId(msg.lastId)) this.#frontier = msg.lastId
    if (head?.kind === 'handshake') this.#attempt = 0
    this.#emitter.emit('subscribed', {
      topics,
      epoch,
      lastId: isEventId(msg.lastId) ? msg.lastId : null,
    })
    if (isReply && head.kind === 'subscribe') head.resolve(topics)
  }

  #ack(msg: Frame): void {
    const requestId = typeof msg.requestId === 'string' ? msg.requestId : undefined
    if (requestId === undefined) return
    const c = this.#controls.get(requestId)
    if (!c) return
    this.#controls.delete(requestId)
    clearTimeout(c.timer)
    if (msg.success === false) {
      c.reject(
        new VerisimClientError(
          ClientErrorCode.controlFailed,
          'the gateway answered the control request with success: false',
          {
            requestId,
            result: msg.result,
          },
        ),
      )
    } else {
      c.resolve(msg.result)
    }
  }

  #serverError(conn: WsConn, msg: Frame): void {
    const code = typeof msg.code === 'string' ? msg.code : 'VS_GW_UNKNOWN'
    const message = typeof msg.message === 'string' ? msg.message : code
    const requestId = typeof msg.requestId === 'string' ? msg.requestId : undefined
    const err = new VerisimClientError(code, message, { requestId, canRetry: RETRYABLE.has(code) })

    if (requestId !== undefined && this.#controls.has(requestId)) {
      const c = this.#controls.get(requestId) as PendingControl
      this.#controls.delete(requestId)
      clearTimeout(c.timer)
      c.reject(err)
      return
    }
    // The catch-up failed part-way: the gateway released live events after a
    // hole. Resume again from what was delivered.
    if (conn.catchingUp && code === INTERNAL) {
      this.#report(err)
      this.#dropped(conn, { error: err })
      return
    }
    const head = conn.ops[0]
    if (
      (head?.kind === 'subscribe' || head?.kind === 'handshake') &&
      SUBSCRIBE_FAILURES.has(code)
    ) {
      conn.ops.shift()
      if (head.kind === 'subscribe') {
        head.reject(err)
        return
      }
      this.#endCatchup(conn)
      this.#report(err)
      if (code === INTERNAL) {
        // e.g. "gateway not ready": try again later.
        this.#dropped(conn, { error: err })
      } else {
        // The gateway refused the topics outright (nothing was subscribed); asking again would fail again.
        this.#topics.clear()
      }
      return
    }
    this.#report(err)
  }

  // ── SSE ──────────────────────────────────────────────────────────────────

  #connectSse(): void {
    const conn = new SseConn()
    this.#conn = conn
    const cursor = this.#lastId
    conn.resumedFrom = cursor
    const url = endpointUrl(this.#o.url, 'sse', {
      topics: [...this.#topics].join(','),
      lastId: cursor ?? undefined,
      token: this.#o.token,
      snapshot: cursor === null && !this.#o.snapshot ? '0' : undefined,
    })
    this.#watchConnect(conn)
    conn.done = this.#runSse(conn, url)
  }

  /** Restarts the SSE stream now (topic change), resuming from the last delivered id. */
  #restartSse(): void {
    const old = this.#conn
    this.#conn = null
    if (old) void (old.kind === 'ws' ? old.stop(false, 0) : old.stop())
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = null
    this.#connect()
  }

  async #runSse(conn: SseConn, url: string): Promise<void> {
    try {
      const res = await (this.#o.fetch as typeof fetch)(url, {
        headers: { accept: 'text/event-stream' },
        cache: 'no-store',
        signal: conn.abort.signal,
      })
      if (this.#conn !== conn) {
        void res.body?.cancel().catch(() => {})
        return
      }
      const type = res.headers.get('content-type') ?? ''
      if (!res.ok || !type.includes('text/event-stream') || !res.body) {
        const err = await this.#httpError(res)
        if (this.#conn === conn) this.#sseRefused(conn, err)
        return
      }
      this.#sseOpened(conn)
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      const parser = new SseParser()
      for (;;) {
        const { done, value } = await reader.read()
        if (this.#conn !== conn) {
          void reader.cancel().catch(() => {})
          return
        }
        if (done) break
        conn.lastHeard = Date.now()
        const messages = parser.feed(decoder.decode(value, { stream: true }))
        if (messages.length > 0) this.#sseMessages(conn, messages)
      }
      this.#dropped(conn, { reason: 'the server ended the event stream' })
    } catch (err) {
      if (this.#conn !== conn) return
      this.#dropped(conn, {
        error: new VerisimClientError(ClientErrorCode.connectionLost, 'the event stream failed', {
          cause: err,
          canRetry: true,
        }),
      })
    }
  }

  async #httpError(res: Response): Promise<VerisimClientError> {
    const status = res.status
    if (res.ok) {
      void res.body?.cancel().catch(() => {})
      const type = res.headers.get('content-type') ?? 'no content type'
      return new VerisimClientError(
        ClientErrorCode.http,
        `expected text/event-stream, got ${type}`,
        { status, canRetry: true },
      )
    }
    const canRetry = status >= 500 || status === 408 || status === 429
    let text = ''
    try {
      text = await res.text()
    } catch {
      // The body is only used for the message.
    }
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
      if (typeof body.error?.code === 'string') {
        const message =
          typeof body.error.message === 'string' ? body.error.message : body.error.code
        return new VerisimClientError(body.error.code, message, { status, canRetry })
      }
    } catch {
      // Not the gateway's JSON error body.
    }
    return new VerisimClientError(
      ClientErrorCode.http,
      `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`,
      { status, canRetry },
    )
  }

  /** The SSE endpoint answered with an error instead of a stream. */
  #sseRefused(conn: SseConn, err: VerisimClientError): void {
    if (err.canRetry) {
      this.#dropped(conn, { error: err, ...(err.status === undefined ? {} : { code: err.status }) })
      return
    }
    const waiters = this.#sseWaiters
    if (waiters.length > 0) {
      // The topic change was refused (e.g. unknown topic): undo it and go on with the previous topics.
      this.#sseWaiters = []
      for (const op of waiters) {
        if (op.kind === 'subscribe') for (const t of op.topics) this.#topics.delete(t)
        else for (const t of op.topics) this.#topics.add(t)
        op.reject(err)
      }
      this.#restartSse()
      return
    }
    this.#emitter.emit('error', err)
    this.#conn = null
    void conn.stop()
    void this.#shutdown({ error: err, ...(err.status === undefined ? {} : { code: err.status }) })
  }

  #sseOpened(conn: SseConn): void {
    conn.open = true
    for (const t of conn.timers) clearTimeout(t)
    conn.timers = []
    conn.lastHeard = Date.now()
    if (this.#everOpened) this.#stats.reconnects++
    this.#everOpened = true
    this.#attempt = 0
    this.#watchIdle(conn)
    const waiters = this.#sseWaiters
    this.#sseWaiters = []
    for (const op of waiters) op.resolve(op.kind === 'subscribe' ? this.topics : op.topics)
    this.#setState('open', { attempt: 0 })
  }

  #sseMessages(conn: SseConn, messages: SseMessage[]): void {
    let events: unknown[] = []
    for (const m of messages) {
      if (m.event === 'snapshot') {
        let list: unknown
        try {
          list = (JSON.parse(m.data) as { events?: unknown }).events
        } catch {
          list = undefined
        }
        if (Array.isArray(list)) this.#emitter.emit('snapshot', list as StreamEvent[])
        continue
      }
      if (m.event === 'catchup') {
        if (events.length > 0) {
          this.#deliver(events, 'live')
          events = []
          if (this.#conn !== conn) return
        }
        let reason: unknown
        try {
          reason = (JSON.parse(m.data) as { reason?: unknown }).reason
        } catch {
          reason = undefined
        }
        if (reason === 'too_old' || reason === 'epoch_changed')
          this.#reset(reason, conn.resumedFrom)
        continue
      }
      try {
        events.push(JSON.parse(m.data))
      } catch (err) {
        this.#report(
          new VerisimClientError(
            ClientErrorCode.badFrame,
            `SSE "${m.event}" message data is not JSON`,
            { cause: err },
          ),
        )
      }
    }
    if (events.length > 0) this.#deliver(events, 'live')
  }

  // ── delivery ─────────────────────────────────────────────────────────────

  /** Dedupes and delivers events in id order; `#lastId` advances as each is handed out. */
  #deliver(events: readonly unknown[], source: DeliverySource): void {
    let floor = this.#lastId
    const fresh: StreamEvent[] = []
    for (const e of events) {
      const id = e !== null && typeof e === 'object' ? (e as { id?: unknown }).id : undefined
      if (!isEventId(id)) {
        this.#report(
          new VerisimClientError(
            ClientErrorCode.badEvent,
            `event without a valid id dropped: ${JSON.stringify(id)}`,
          ),
        )
        continue
      }
      if (floor !== null && compareIds(id, floor) <= 0) {
        this.#stats.duplicates++
        continue
      }
      floor = id
      fresh.push(e as StreamEvent)
    }
    if (fresh.length === 0) return
    this.#emitter.emit('batch', fresh, { source })
    for (const e of fresh) {
      if (this.#closed) return
      this.#lastId = e.id
      this.#stats.delivered++
      this.#emitter.emit('event', e)
      if (typeof e.stream === 'string' && this.#byStream.has(e.stream)) {
        if (this.#closed) return
        this.#byStream.emit(e.stream, e)
      }
    }
  }

  #reset(reason: CatchupReason, lost: string | null): void {
    this.#lastId = null
    this.#stats.resets++
    this.#emitter.emit('reset', { reason, lastId: lost, epoch: this.#epoch })
  }

  #report(err: VerisimClientError): void {
    this.#emitter.emit('error', err)
  }

  #listenerFailed(err: unknown, event: string): void {
    if (event !== 'error' && this.#emitter.has('error')) {
      this.#emitter.emit(
        'error',
        new VerisimClientError(ClientErrorCode.listenerFailed, `a "${event}" listener threw`, {
          cause: err,
        }),
      )
      return
    }
    // Like an EventEmitter listener that throws: surface it, without breaking the client.
    queueMicrotask(() => {
      throw err
    })
  }
}

/**
 * Creates a client and starts connecting.
 *
 * @example
 * // Browser
 * const client = createClient({ url: 'wss://verisim.example/ws', topics: ['customer.*'] })
 * client.on('event', (e) => render(e))
 *
 * @example
 * // Node 20
 * import WebSocket from 'ws'
 * const client = createClient({ url: 'ws://127.0.0.1:8080/ws', topics: ['*'], WebSocket })
 *
 * @example
 * // Typed by stream, with the module `verisim types --world tutoring` writes
 * import type { TutoringEvents } from './tutoring-events.js'
 * const client = createClient<TutoringEvents>({ url, topics: ['session.*'] })
 * client.on('session.completed', (e) => e.data.tutorId) // e.data: SessionCompletedData
 */
export function createClient<M extends StreamDataMap<M> = AnyStreams>(
  options: ClientOptions,
): VerisimClient<M> {
  return new VerisimClient<M>(options)
}

/** `?a=1&b=2` of the defined values ('' when none). */
function queryString(query: object): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue
    const value = Array.isArray(v) ? v.join(',') : v instanceof Date ? v.toISOString() : String(v)
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(value)}`)
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}
