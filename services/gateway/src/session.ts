/**
 * One streaming client's protocol state, shared by WebSocket and SSE: topics,
 * the resume handshake (hold live events, replay the missed window, release),
 * and the error replies. Transport specifics stay in the routes.
 */
import type { FastifyInstance } from 'fastify'
import {
  UnknownTopicError,
  createTopicMatcher,
  type CatchupReason,
  type MatchableEvent,
} from '@verisim/schema'
import type { RawEvent } from '@verisim/bus'
import { envelopeTimestamp, planCatchup, replay, type ResumePoint } from './catchup.js'
import { readSnapshot } from './snapshot.js'
import type { FanoutClient, Sink } from './fanout.js'
import { isReplayTopic, readReplay, replayIdOf } from './replay.js'

export interface CatchupOutput {
  /** A page of replayed events (may be empty only when it is the final one). */
  page(events: RawEvent[], lastId: string | null, complete: boolean): void
  /** The resume point cannot be honoured. */
  lost(reason: CatchupReason): void
  /**
   * After `lost` with `epoch_changed` (Redis lost the streams, or a restore or a
   * travel began a new timeline): the recent events of the new streams, as a
   * subscribe without a resume point gets them; live delivery continues after them.
   */
  snapshot?(events: RawEvent[]): void
}

/** Polls until the sink has drained below `bytes`, so a replay never floods memory. */
async function drained(sink: Sink, bytes: number): Promise<void> {
  while (sink.bufferedBytes() > bytes) await new Promise((r) => setTimeout(r, 10))
}

/** A `replay:<id>` topic's events as the sink's transport frames them. */
function encodeReplay(kind: Sink['kind'], topic: string, events: RawEvent[]): Buffer {
  const body = `{"type":"replay","topic":${JSON.stringify(topic)},"events":[${events.map((e) => e.json).join(',')}]}`
  return Buffer.from(kind === 'ws' ? body : `event: replay\ndata: ${body}\n\n`)
}

function encodeUnknownReplay(kind: Sink['kind'], topic: string): Buffer {
  const body = JSON.stringify({
    type: 'error',
    code: 'VS_GW_UNKNOWN_TOPIC',
    message: `unknown replay topic ${JSON.stringify(topic)}: no such replay (a finished one is kept for 1 hour); start one with POST /api/streams/replay`,
  })
  return Buffer.from(kind === 'ws' ? body : `event: error\ndata: ${body}\n\n`)
}

/** Splits `replay:<id>` topics from the world's; a malformed replay topic is unknown. */
function splitTopics(topics: string[]): { world: string[]; replays: string[] } {
  const world: string[] = []
  const replays: string[] = []
  const bad: string[] = []
  for (const t of topics) {
    if (!isReplayTopic(t)) world.push(t)
    else if (replayIdOf(t) !== null) replays.push(t)
    else bad.push(t)
  }
  if (bad.length > 0) throw new UnknownTopicError(bad)
  return { world, replays }
}

export function createSession(app: FastifyInstance, sink: Sink) {
  const { fanout } = app.streams
  const client: FanoutClient = fanout.add(sink)
  let closed = false
  let heldAt: string | null = null
  /** `replay:<id>` topics subscribed, each with its reader's stop. */
  const replays = new Map<string, () => void>()

  return {
    client,
    /** The world topics and the replay topics subscribed. */
    topics(): string[] {
      return [...client.topics, ...replays.keys()]
    },
    /**
     * Adds topics (validated against the catalog first: an unknown one changes
     * nothing and throws `UnknownTopicError`). `replay:<id>` topics start reading
     * that replay from its beginning. Returns the full topic list.
     */
    subscribe(topics: string[]): string[] {
      const { world, replays: wanted } = splitTopics(topics)
      fanout.setTopics(client, [...client.topics, ...world])
      for (const topic of wanted) {
        if (replays.has(topic)) continue
        replays.set(
          topic,
          readReplay({
            redis: app.redis,
            keys: app.streams.keys,
            id: replayIdOf(topic) as string,
            send: (events) => {
              if (!closed) sink.write(encodeReplay(sink.kind, topic, events))
            },
            onUnknown: () => {
              replays.delete(topic)
              if (!closed) sink.write(encodeUnknownReplay(sink.kind, topic))
            },
            backlogged: () => sink.bufferedBytes() > 1024 * 1024,
          }),
        )
      }
      return this.topics()
    },
    /** Removes topics; returns the ones that were subscribed. */
    unsubscribe(topics: string[]): string[] {
      const drop = new Set(topics)
      const removed = this.topics().filter((t) => drop.has(t))
      for (const t of drop) {
        replays.get(t)?.()
        replays.delete(t)
      }
      fanout.setTopics(
        client,
        client.topics.filter((t) => !drop.has(t)),
      )
      return removed
    },
    /** Throws UnknownTopicError when a topic names nothing (without subscribing). */
    validate(topics: string[]): void {
      createTopicMatcher(splitTopics(topics).world, app.streams.catalog())
    },
    /**
     * Starts holding the client's live events at the current frontier. Call it
     * synchronously with `subscribe` (before any await), then `resume`.
     */
    hold(): void {
      heldAt = app.streams.frontier()
      fanout.holdFor(client, heldAt)
    },
    /**
     * Replays what the client missed since `point` for its current topics, up to
     * where `hold` started holding its live events; then releases them, so the
     * client sees one gap-free, duplicate-free sequence.
     */
    async resume(point: ResumePoint, out: CatchupOutput): Promise<void> {
      if (heldAt === null) this.hold()
      const frontier = heldAt as string
      heldAt = null
      try {
        const ctx = app.streams.catchupContext()
        const plan = await planCatchup(ctx, point, frontier)
        if (plan.kind === 'lost') {
          app.metrics.catchups.inc({ outcome: plan.reason })
          out.lost(plan.reason)
          if (plan.reason === 'epoch_changed' && out.snapshot) {
            const catalog = app.streams.catalog()
            const events = await readSnapshot(
              { ...ctx, catalog },
              createTopicMatcher(client.topics, catalog),
              { upTo: frontier },
            )
            if (!closed) out.snapshot(events)
          }
          return
        }
        if (plan.kind === 'current') {
          client.minId = plan.after
          app.metrics.catchups.inc({ outcome: 'current' })
          out.page([], plan.after, true)
          return
        }
        const match = createTopicMatcher(client.topics, app.streams.catalog())
        let lastId = plan.after
        for await (const page of replay(ctx, plan.after, plan.upTo, match)) {
          if (closed) return
          if (page.events.length > 0 || page.done) {
            const pageLast = page.events[page.events.length - 1]
            if (pageLast) lastId = pageLast.id
            out.page(page.events, lastId, page.done)
            await drained(sink, 1024 * 1024)
          }
        }
        app.metrics.catchups.inc({ outcome: 'replayed' })
      } finally {
        fanout.release(client)
      }
    },
    /**
     * Reads the last events of each stream `match` takes, up to where `hold`
     * started holding the client's live events, hands them to `send` (oldest
     * first), then releases the held events: the snapshot ends where live
     * delivery begins, so nothing is sent twice and nothing after it is skipped.
     */
    async snapshot(
      match: (e: MatchableEvent) => boolean,
      send: (events: RawEvent[]) => void,
    ): Promise<void> {
      if (heldAt === null) this.hold()
      const upTo = heldAt as string
      heldAt = null
      try {
        const { redis, keys, channels } = app.streams.catchupContext()
        const events = await readSnapshot(
          { redis, keys, channels, catalog: app.streams.catalog() },
          match,
          { upTo },
        )
        if (!closed) send(events)
      } finally {
        fanout.release(client)
      }
    },
    close() {
      closed = true
      for (const stop of replays.values()) stop()
      replays.clear()
      fanout.remove(client)
    },
  }
}
export type Session = ReturnType<typeof createSession>

export function catchupEndTime(events: RawEvent[]): string | undefined {
  const last = events[events.length - 1]
  return last ? envelopeTimestamp(last.json) : undefined
}

export { UnknownTopicError }
