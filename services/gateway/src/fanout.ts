/**
 * Fan-out: released events (already in id order) are collected for one batch
 * window (100 ms), then, for each distinct subscription (canonical topic list),
 * filtered and serialized once — into one Buffer, which every member's socket
 * then writes without copying or re-encoding it — with one write per client. Members that joined with a resume point skip what they already have;
 * members still catching up collect their share privately until the catch-up
 * is sent. A client whose unsent bytes exceed the bound is closed as slow and
 * can resume without loss.
 */
import {
  canonicalTopics,
  createTopicMatcher,
  type MatchableEvent,
  type StreamInfo,
} from '@verisim/schema'
import { compareIds, type RawEvent } from '@verisim/bus'

/** Where a client's bytes go: a WebSocket or an SSE response. */
export interface Sink {
  readonly kind: 'ws' | 'sse'
  /** One frame (WS) or chunk (SSE); the same Buffer goes to many sinks, so it must not be modified. */
  write(chunk: Buffer): void
  /** Bytes accepted but not yet handed to the kernel. */
  bufferedBytes(): number
  close(code: number, reason: string): void
}

/** Close codes the gateway uses itself (docs/API.md "Close codes" lists these and the WebSocket layer's). */
export const CloseCode = {
  /** Server shutting down. */
  goingAway: 1001,
  /** No pong within the liveness window. */
  pingTimeout: 4002,
  /** Send queue above the bound: reconnect and resume with the last id. */
  slowConsumer: 4008,
  /**
   * The stored streams were lost and replaced (Redis restarted empty; the epoch
   * changed): events may be missing since the client's last id. Reconnecting
   * with that id answers `catchup` with `reason: "epoch_changed"`.
   */
  streamsLost: 4010,
} as const

export interface FanoutClient {
  readonly id: number
  readonly sink: Sink
  topics: string[]
  /** Live events at or below this id are not sent (the client has them, or gets them by catch-up). */
  minId: string | null
  /** While set, this client's live events are kept here instead of sent. */
  backlog: RawEvent[] | null
  lastSentId: string | null
  group: Group | null
}

interface Group {
  key: string
  match: (e: MatchableEvent) => boolean
  members: Set<FanoutClient>
}

export interface FanoutOptions {
  catalog: () => readonly StreamInfo[]
  batchMs?: number
  /** Per-client bound on unsent bytes. */
  maxBufferedBytes?: number
  onSlowClient?(client: FanoutClient): void
  onFlush?(stats: { events: number; frames: number; bytes: number; micros: number }): void
}

export function encodeWsBatch(events: readonly RawEvent[]): string {
  let out = '{"type":"batch","events":['
  for (let i = 0; i < events.length; i++) {
    if (i > 0) out += ','
    out += (events[i] as RawEvent).json
  }
  return out + ']}'
}

export function encodeSse(events: readonly RawEvent[]): string {
  let out = ''
  for (const e of events) out += `id: ${e.id}\nevent: ${e.stream}\ndata: ${e.json}\n\n`
  return out
}

/** A batch as the bytes a sink writes: serialized once, shared by every member of a subscription. */
export function encode(kind: Sink['kind'], events: readonly RawEvent[]): Buffer {
  return Buffer.from(kind === 'ws' ? encodeWsBatch(events) : encodeSse(events))
}

export function createFanout(opts: FanoutOptions) {
  const batchMs = opts.batchMs ?? 100
  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024
  const groups = new Map<string, Group>()
  const clients = new Set<FanoutClient>()
  let window: RawEvent[] = []
  let nextId = 1
  let timer: NodeJS.Timeout | null = null

  function groupFor(topics: string[]): Group {
    const key = topics.join('\n')
    let g = groups.get(key)
    if (!g) {
      g = { key, match: createTopicMatcher(topics, opts.catalog()), members: new Set() }
      groups.set(key, g)
    }
    return g
  }

  function leaveGroup(c: FanoutClient) {
    if (!c.group) return
    c.group.members.delete(c)
    if (c.group.members.size === 0) groups.delete(c.group.key)
    c.group = null
  }

  function deliver(c: FanoutClient, chunk: Buffer, last: string): boolean {
    if (c.sink.bufferedBytes() > maxBuffered) {
      opts.onSlowClient?.(c)
      remove(c)
      c.sink.close(CloseCode.slowConsumer, 'slow consumer: send queue full; resume with lastId')
      return false
    }
    c.sink.write(chunk)
    c.lastSentId = last
    return true
  }

  function flush() {
    if (window.length === 0) return
    const started = process.hrtime.bigint()
    const events = window
    window = []
    let frames = 0
    let bytes = 0
    for (const g of groups.values()) {
      let matched: RawEvent[] | null = null
      const encoded: Partial<Record<Sink['kind'], Buffer>> = {}
      for (const c of g.members) {
        matched ??= events.filter(g.match)
        if (matched.length === 0) break
        let mine: RawEvent[] = matched
        if (c.minId !== null && compareIds((matched[0] as RawEvent).id, c.minId) <= 0) {
          const floor = c.minId
          mine = matched.filter((e) => compareIds(e.id, floor) > 0)
          if (mine.length === 0) continue
        }
        if (c.backlog) {
          for (const e of mine) c.backlog.push(e)
          continue
        }
        const last = (mine[mine.length - 1] as RawEvent).id
        const chunk =
          mine === matched
            ? (encoded[c.sink.kind] ??= encode(c.sink.kind, matched))
            : encode(c.sink.kind, mine)
        if (deliver(c, chunk, last)) {
          frames++
          bytes += chunk.length
        }
      }
    }
    opts.onFlush?.({
      events: events.length,
      frames,
      bytes,
      micros: Number(process.hrtime.bigint() - started) / 1000,
    })
  }

  function remove(c: FanoutClient) {
    leaveGroup(c)
    clients.delete(c)
  }

  return {
    /** Feed released events (increasing id order). */
    push(events: readonly RawEvent[]) {
      for (const e of events) window.push(e)
    },
    start() {
      if (timer) return
      timer = setInterval(flush, batchMs)
      timer.unref()
    },
    /** Sends what the window holds now (used on shutdown, and by tests). */
    flush,
    stop() {
      if (timer) clearInterval(timer)
      timer = null
      flush()
    },
    add(sink: Sink): FanoutClient {
      const c: FanoutClient = {
        id: nextId++,
        sink,
        topics: [],
        minId: null,
        backlog: null,
        lastSentId: null,
        group: null,
      }
      clients.add(c)
      return c
    },
    remove,
    /**
     * Replaces the client's topics. Throws `UnknownTopicError` (leaving the
     * client unchanged) when one names nothing.
     */
    setTopics(c: FanoutClient, topics: string[]) {
      const canonical = canonicalTopics(topics)
      if (canonical.length === 0) {
        leaveGroup(c)
        c.topics = []
        return
      }
      const g = groupFor(canonical)
      leaveGroup(c)
      c.topics = canonical
      c.group = g
      g.members.add(c)
    },
    /** Starts holding the client's live events (from now on) for a catch-up in progress. */
    holdFor(c: FanoutClient, floor: string | null) {
      c.minId = floor
      c.backlog ??= []
    },
    /** Ends the hold: sends what was held, then live delivery continues. */
    release(c: FanoutClient) {
      const held = c.backlog
      c.backlog = null
      if (held && held.length > 0 && clients.has(c)) {
        deliver(c, encode(c.sink.kind, held), (held[held.length - 1] as RawEvent).id)
      }
    },
    get clientCount() {
      return clients.size
    },
    get groupCount() {
      return groups.size
    },
    clients(): ReadonlySet<FanoutClient> {
      return clients
    },
  }
}
export type Fanout = ReturnType<typeof createFanout>
