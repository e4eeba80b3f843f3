/**
 * An in-process stand-in for the gateway's `/ws` endpoint, speaking the
 * protocol of services/gateway/src/routes/ws (subscribe → subscribed → catchup
 * pages → live batches; ping/pong; control → ack/error), with knobs to
 * misbehave: drop sockets, page catch-ups, lose resume points, repeat events.
 */
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export interface Envelope {
  id: string
  world: string
  stream: string
  channel: string
  timestamp: string
  data: Record<string, unknown>
  normalizedValue: number
  anomalyFlag: 'normal' | 'warning' | 'critical'
  causes: string[]
}

export type Frame = { type: string; [k: string]: unknown }

const BASE_MS = 1_732_350_000_000
const STREAMS = ['customer.tutor.search', 'session.completed', 'support.ticket.created']

/** Ids that cross digit boundaries (…-9 → …-10, …999 → …1000) so string order would be wrong. */
export function idAt(k: number): string {
  return `${BASE_MS + Math.floor(k / 12)}-${k % 12}`
}

export function makeEvent(k: number, stream = STREAMS[k % STREAMS.length] as string): Envelope {
  return {
    id: idAt(k),
    world: 'tutoring',
    stream,
    channel: stream.split('.')[0] as string,
    timestamp: new Date(BASE_MS + k * 1000).toISOString(),
    data: { k, text: 'café ☕' },
    normalizedValue: 50,
    anomalyFlag: 'normal',
    causes: [],
  }
}

export function matches(topics: readonly string[], e: Envelope): boolean {
  return topics.some(
    (t) => t === '*' || t === e.stream || (t.endsWith('.*') && e.stream.startsWith(t.slice(0, -1))),
  )
}

function cmp(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am - bm || as - bs
}

export class FakeConn {
  topics: string[] = []
  /** Highest id this connection has been sent (or skipped past). */
  cursor: string | null = null
  subscribed = false
  readonly received: Frame[] = []
  readonly url: string
  constructor(
    readonly socket: WebSocket,
    url: string,
  ) {
    this.url = url
  }
  send(msg: unknown): void {
    if (this.socket.readyState === this.socket.OPEN)
      this.socket.send(typeof msg === 'string' ? msg : JSON.stringify(msg))
  }
  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN
  }
}

export interface FakeGatewayOptions {
  /** Catch-up page size (events per `catchup` frame). */
  pageSize?: number
}

export class FakeGateway {
  readonly wss: WebSocketServer
  readonly log: Envelope[] = []
  readonly conns: FakeConn[] = []
  epoch = 'e0'
  pageSize: number
  /** When set, a resume gets `{"type":"catchup","events":[],"reason":…}`. */
  lostReason: 'too_old' | 'epoch_changed' | null = null
  /** Catch-ups start this many events before the requested lastId (duplicates the client must drop). */
  overlap = 0
  /** After this many catch-up pages the socket is cut (then the knob resets). */
  terminateAfterPages: number | null = null
  /** Cut with a close frame (4008) instead of a terminate, so every page sent before arrives. */
  cutWithClose = false
  /**
   * Live events wait for `flushAll()` instead of going out on `publish`, like
   * the gateway's 100 ms window: `subscribed.lastId` may then be ahead of what
   * a connection was sent.
   */
  windowed = false
  /** Send a live batch before the catch-up's first page (a hostile ordering the client must absorb). */
  liveBeforeCatchup = false
  /** Reply to subscribe with this error instead (then the knob resets if `once`). */
  subscribeError: { code: string; message: string; once: boolean } | null = null
  /** Custom handling; return true when the message was handled. */
  onMessage: ((conn: FakeConn, msg: Frame) => boolean) | null = null
  /** Controls: answered by this function (default: ack with `{ action }`). */
  onControl: ((conn: FakeConn, msg: Frame) => void) | null = null
  #next = 0

  private constructor(wss: WebSocketServer, opts: FakeGatewayOptions) {
    this.wss = wss
    this.pageSize = opts.pageSize ?? 1000
    wss.on('connection', (socket, req) => {
      const conn = new FakeConn(socket, req.url ?? '')
      this.conns.push(conn)
      socket.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as Frame
        conn.received.push(msg)
        if (this.onMessage?.(conn, msg)) return
        this.handle(conn, msg)
      })
    })
  }

  static async start(opts: FakeGatewayOptions = {}): Promise<FakeGateway> {
    return FakeGateway.startOn(0, opts)
  }

  /** Starts on a given port (to bring a "restarted" gateway back where clients look for it). */
  static async startOn(port: number, opts: FakeGatewayOptions = {}): Promise<FakeGateway> {
    const wss = new WebSocketServer({ port, host: '127.0.0.1' })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    return new FakeGateway(wss, opts)
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`
  }

  get frontier(): string | null {
    return this.log.at(-1)?.id ?? null
  }

  /** The connection opened last. */
  get last(): FakeConn {
    const c = this.conns.at(-1)
    if (!c) throw new Error('no connection yet')
    return c
  }

  openConns(): FakeConn[] {
    return this.conns.filter((c) => c.open)
  }

  /** Appends `n` events and sends each subscribed connection its new ones as one batch. */
  publish(n: number, stream?: string): Envelope[] {
    const fresh: Envelope[] = []
    for (let i = 0; i < n; i++) fresh.push(makeEvent(this.#next++, stream))
    this.log.push(...fresh)
    if (!this.windowed) this.flushAll()
    return fresh
  }

  flushAll(): void {
    for (const c of this.conns) this.flushTo(c)
  }

  /** Sends `c` every matching event after its cursor. */
  flushTo(c: FakeConn): void {
    if (!c.subscribed || !c.open) return
    const cursor = c.cursor
    const events = this.log.filter(
      (e) => (cursor === null || cmp(e.id, cursor) > 0) && matches(c.topics, e),
    )
    if (this.frontier) c.cursor = this.frontier
    if (events.length > 0) c.send({ type: 'batch', events })
  }

  /** Drops every open connection: `close` with a code, or `terminate` (no close frame). */
  drop(how: 'close' | 'terminate', code = 4008): void {
    for (const c of this.openConns()) {
      if (how === 'close') c.socket.close(code, 'test drop')
      else c.socket.terminate()
    }
  }

  /** The default handling of a client message (for `onMessage` hooks that defer it). */
  handle(conn: FakeConn, msg: Frame): void {
    switch (msg.type) {
      case 'subscribe':
        return this.#subscribe(conn, msg)
      case 'unsubscribe': {
        const drop = new Set(msg.topics as string[])
        const removed = conn.topics.filter((t) => drop.has(t))
        conn.topics = conn.topics.filter((t) => !drop.has(t))
        conn.send({ type: 'unsubscribed', topics: removed })
        return
      }
      case 'ping':
        conn.send({ type: 'pong' })
        return
      case 'control':
        if (this.onControl) this.onControl(conn, msg)
        else
          conn.send({
            type: 'ack',
            requestId: msg.requestId,
            success: true,
            result: { action: msg.action },
          })
        return
      default:
        return
    }
  }

  #subscribe(conn: FakeConn, msg: Frame): void {
    if (this.subscribeError) {
      const { code, message, once } = this.subscribeError
      if (once) this.subscribeError = null
      conn.send({ type: 'error', code, message })
      return
    }
    const topics = msg.topics as string[]
    const bad = topics.filter((t) => t.startsWith('bogus'))
    if (bad.length > 0) {
      conn.send({
        type: 'error',
        code: 'VS_GW_UNKNOWN_TOPIC',
        message: `unknown topic ${bad.join(', ')}`,
      })
      return
    }
    conn.topics = [...new Set([...conn.topics, ...topics])].sort()
    const frontier = this.frontier
    conn.send({ type: 'subscribed', topics: conn.topics, epoch: this.epoch, lastId: frontier })
    const lastId = typeof msg.lastId === 'string' ? msg.lastId : null
    if (lastId === null) {
      if (!conn.subscribed) conn.cursor = frontier
      conn.subscribed = true
      return
    }
    if (this.liveBeforeCatchup && frontier) {
      // Hostile: a live batch (after the frontier) overtakes the catch-up.
      const live = this.log.filter((e) => matches(conn.topics, e)).slice(-1)
      conn.send({ type: 'batch', events: live })
    }
    if (this.lostReason) {
      conn.send({ type: 'catchup', events: [], reason: this.lostReason })
      conn.cursor = frontier
      conn.subscribed = true
      return
    }
    let from = this.log.findIndex((e) => cmp(e.id, lastId) > 0)
    if (from === -1) from = this.log.length
    from = Math.max(0, from - this.overlap)
    const missed = this.log.slice(from).filter((e) => matches(conn.topics, e))
    const pages: Envelope[][] = []
    for (let i = 0; i < missed.length; i += this.pageSize)
      pages.push(missed.slice(i, i + this.pageSize))
    if (pages.length === 0) pages.push([])
    for (let p = 0; p < pages.length; p++) {
      if (this.terminateAfterPages !== null && p === this.terminateAfterPages) {
        this.terminateAfterPages = null
        if (this.cutWithClose) conn.socket.close(4008, 'cut mid catch-up')
        else conn.socket.terminate()
        return
      }
      const page = pages[p] as Envelope[]
      conn.send({
        type: 'catchup',
        events: page,
        catchUpEndTime: page.at(-1)?.timestamp,
        lastId: page.at(-1)?.id ?? lastId,
        complete: p === pages.length - 1,
      })
    }
    conn.cursor = frontier
    conn.subscribed = true
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
  }
}

/** Resolves when `cond()` holds; rejects after `ms` with `what`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  const holds = () => {
    try {
      return cond()
    } catch {
      return false // e.g. `gw.last` before any connection
    }
  }
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
