/**
 * Replays of the archive (`POST /api/streams/replay`): an archived range is
 * published again, paced at the requested speed, on a stream of its own
 * (`<prefix>:{<world>}:replay:<id>`); clients subscribed to the topic
 * `replay:<id>` (WebSocket or SSE, on any gateway instance) get it as `replay`
 * messages. Every replayed envelope carries `"replay": true`; progress goes on
 * the same topic as `simulation.replay` events of the `simulation_control`
 * channel, once a second and at the end. Live streams are untouched.
 *
 * The instance that accepted the request runs the replay; the status is a hash
 * any instance reads, and a cancel from any instance is seen within 250 ms.
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type pg from 'pg'
import type { RawEvent, WorldKeys } from '@verisim/bus'

export const REPLAY_TOPIC_PREFIX = 'replay:'
const REPLAY_ID_RE = /^[a-z0-9]{1,32}$/
/** How long a finished replay's events and status stay readable. */
export const REPLAY_KEEP_S = 3600
export const REPLAY_PROGRESS_STREAM = 'simulation.replay'
export const REPLAY_CONTROL_CHANNEL = 'simulation_control'
const PAGE = 2000

export type ReplayState = 'running' | 'done' | 'cancelled' | 'failed'

export interface ReplayStatus {
  id: string
  topic: string
  state: ReplayState
  /** Events in the range (matching the filters). */
  total: number
  sent: number
  /** sent / total (1 when the range is empty and done). */
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

export interface ReplayQuery {
  start: number
  end: number
  speed: number
  epoch: string
  channel: string | null
  streams: string[] | null
  /** SQL condition on the archive's columns, with its parameters numbered from $1. */
  where: { sql: string; params: unknown[] }
}

export function isReplayTopic(topic: string): boolean {
  return topic.startsWith(REPLAY_TOPIC_PREFIX)
}

/** The replay id of a `replay:<id>` topic, or null when it is not a well-formed one. */
export function replayIdOf(topic: string): string | null {
  const id = topic.slice(REPLAY_TOPIC_PREFIX.length)
  return isReplayTopic(topic) && REPLAY_ID_RE.test(id) ? id : null
}

/** `{"replay":true,…}`: the envelope as published, marked. */
export function markReplay(json: string): string {
  return json.length > 2 ? `{"replay":true,${json.slice(1)}` : '{"replay":true}'
}

export class Replays {
  readonly #redis: Redis
  readonly #keys: WorldKeys
  readonly #log: FastifyBaseLogger
  readonly #running = new Map<string, { cancelled: boolean; done: Promise<void> }>()

  constructor(opts: { redis: Redis; keys: WorldKeys; log: FastifyBaseLogger }) {
    this.#redis = opts.redis
    this.#keys = opts.keys
    this.#log = opts.log
  }

  /** Counts the range, stores the status and starts publishing; answers the status. */
  async start(pool: pg.Pool, q: ReplayQuery): Promise<ReplayStatus> {
    const id = randomBytes(6).toString('hex')
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM events WHERE ${q.where.sql}`,
      q.where.params,
    )
    const status: ReplayStatus = {
      id,
      topic: `${REPLAY_TOPIC_PREFIX}${id}`,
      state: 'running',
      total: Number(rows[0]?.n ?? 0),
      sent: 0,
      progress: 0,
      start: new Date(q.start).toISOString(),
      end: new Date(q.end).toISOString(),
      speed: q.speed,
      channel: q.channel,
      streams: q.streams,
      epoch: q.epoch,
      createdAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    }
    await this.#redis
      .multi()
      .hset(this.#keys.replayStatus(id), 'json', JSON.stringify(status))
      .zadd(this.#keys.replays, Date.now(), id)
      .exec()
    const run = { cancelled: false, done: Promise.resolve() }
    run.done = this.#run(pool, q, status, run).catch((err: Error) =>
      this.#log.error({ err, id }, 'replay failed'),
    )
    this.#running.set(id, run)
    void run.done.finally(() => this.#running.delete(id))
    this.#log.info(
      { id, total: status.total, start: status.start, end: status.end, speed: q.speed },
      'replay started',
    )
    return status
  }

  async status(id: string): Promise<ReplayStatus | null> {
    if (!REPLAY_ID_RE.test(id)) return null
    const raw = await this.#redis.hget(this.#keys.replayStatus(id), 'json')
    return raw === null ? null : (JSON.parse(raw) as ReplayStatus)
  }

  /** Replays of the last hour, newest first. */
  async list(): Promise<ReplayStatus[]> {
    await this.#redis.zremrangebyscore(this.#keys.replays, 0, Date.now() - REPLAY_KEEP_S * 1000)
    const ids = await this.#redis.zrevrange(this.#keys.replays, 0, 99)
    const out: ReplayStatus[] = []
    for (const id of ids) {
      const s = await this.status(id)
      if (s) out.push(s)
    }
    return out
  }

  /** Asks the replay to stop (whichever instance runs it); answers the status, or null when unknown. */
  async cancel(id: string): Promise<ReplayStatus | null> {
    const s = await this.status(id)
    if (s === null) return null
    if (s.state !== 'running') return s
    await this.#redis.hset(this.#keys.replayStatus(id), 'cancel', '1')
    const local = this.#running.get(id)
    if (local) {
      local.cancelled = true
      await local.done
    } else {
      // Another instance runs it: it sees the flag within 250 ms.
      for (let i = 0; i < 40; i++) {
        const now = await this.status(id)
        if (now && now.state !== 'running') return now
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    return this.status(id)
  }

  /** Stops the replays this instance runs (marked failed: the gateway stopped). */
  async close(): Promise<void> {
    for (const run of this.#running.values()) run.cancelled = true
    await Promise.all([...this.#running.values()].map((r) => r.done))
  }

  async #run(
    pool: pg.Pool,
    q: ReplayQuery,
    status: ReplayStatus,
    run: { cancelled: boolean },
  ): Promise<void> {
    const stream = this.#keys.replay(status.id)
    const statusKey = this.#keys.replayStatus(status.id)
    const t0 = performance.now()
    /** Wall ms after t0 at which an event of simulation time `ts` is due. */
    const due = (ts: number): number => (ts - q.start) / q.speed
    let lastProgress = 0
    let lastCancelCheck = 0
    const progress = async (final: boolean): Promise<void> => {
      status.progress =
        status.total === 0 ? (final ? 1 : 0) : Math.round((status.sent / status.total) * 1e4) / 1e4
      const env = {
        replay: true,
        world: this.#keys.world,
        stream: REPLAY_PROGRESS_STREAM,
        channel: REPLAY_CONTROL_CHANNEL,
        timestamp: new Date().toISOString(),
        data: {
          id: status.id,
          state: status.state,
          sent: status.sent,
          total: status.total,
          progress: status.progress,
          ...(status.error ? { error: status.error } : {}),
        },
      }
      const m = this.#redis
        .multi()
        .xadd(stream, '*', 's', REPLAY_PROGRESS_STREAM, 'f', 'normal', 'e', JSON.stringify(env))
        .hset(statusKey, 'json', JSON.stringify(status))
      if (final) m.expire(stream, REPLAY_KEEP_S).expire(statusKey, REPLAY_KEEP_S)
      await m.exec()
      lastProgress = performance.now()
    }
    const cancelled = async (): Promise<boolean> => {
      if (run.cancelled) return true
      if (performance.now() - lastCancelCheck < 250) return false
      lastCancelCheck = performance.now()
      run.cancelled = (await this.#redis.hget(statusKey, 'cancel')) === '1'
      return run.cancelled
    }
    try {
      let after: [string, string] | null = null
      let next = fetchPage(pool, q, after)
      for (;;) {
        const page = await next
        if (page.length === 0) break
        const last = page[page.length - 1]!
        after = [last.ms, last.seq]
        next = page.length < PAGE ? Promise.resolve([]) : fetchPage(pool, q, after) // read ahead
        let i = 0
        while (i < page.length) {
          if (await cancelled()) {
            status.state = 'cancelled'
            break
          }
          const now = performance.now() - t0
          // everything due by now goes out in one write
          let j = i
          while (j < page.length && due(page[j]!.ts) <= now && j - i < 1000) j++
          if (j > i) {
            const p = this.#redis.pipeline()
            for (let k = i; k < j; k++) {
              const r = page[k]!
              p.xadd(stream, '*', 's', r.stream, 'f', r.anomaly_flag, 'e', markReplay(r.envelope))
            }
            await p.exec()
            status.sent += j - i
            i = j
          } else {
            const wait = Math.min(250, Math.max(1, due(page[i]!.ts) - now))
            await new Promise((r) => setTimeout(r, wait))
          }
          if (performance.now() - lastProgress >= 1000) await progress(false)
        }
        if (status.state === 'cancelled') break
      }
      if (status.state === 'running') {
        // The range's end is the replay's end: wait for it at the requested speed.
        for (;;) {
          const left = due(q.end) - (performance.now() - t0)
          if (left <= 0 || (await cancelled())) break
          await new Promise((r) => setTimeout(r, Math.min(250, left)))
          if (performance.now() - lastProgress >= 1000) await progress(false)
        }
        status.state = run.cancelled ? 'cancelled' : 'done'
      }
    } catch (err) {
      status.state = 'failed'
      status.error = `the archive read failed: ${(err as Error).message}`
    }
    status.finishedAt = new Date().toISOString()
    await progress(true)
    this.#log.info({ id: status.id, state: status.state, sent: status.sent }, 'replay ended')
  }
}

interface ReplayRow {
  id: string
  ms: string
  seq: string
  ts: number
  stream: string
  anomaly_flag: string
  envelope: string
}

async function fetchPage(
  pool: pg.Pool,
  q: ReplayQuery,
  after: [string, string] | null,
): Promise<ReplayRow[]> {
  const params = [...q.where.params]
  let sql = q.where.sql
  if (after) {
    params.push(after[0], after[1])
    sql += ` AND (id_ms, id_seq) > ($${params.length - 1}::bigint, $${params.length}::bigint)`
  }
  const { rows } = await pool.query<ReplayRow>(
    // (the key's parts under other names: ORDER BY id_ms would otherwise sort the text outputs)
    `SELECT id, id_ms::text AS ms, id_seq::text AS seq, (extract(epoch FROM ts) * 1000)::float8 AS ts,
            stream, anomaly_flag, envelope::text AS envelope
     FROM events WHERE ${sql} ORDER BY events.id_ms, events.id_seq LIMIT ${PAGE}`,
    params,
  )
  return rows
}

/**
 * Reads a replay's stream from its start for one subscriber and hands each
 * batch to `send`, until the replay has ended and everything was read, or
 * `stop()`. Unknown id: `onUnknown` once.
 */
export function readReplay(opts: {
  redis: Redis
  keys: WorldKeys
  id: string
  send(events: RawEvent[]): void
  onUnknown(): void
  /** Slows reading while the client has this many bytes unsent. */
  backlogged(): boolean
}): () => void {
  let stopped = false
  const conn = opts.redis.duplicate()
  conn.on('error', () => undefined)
  const key = opts.keys.replay(opts.id)
  void (async () => {
    try {
      if ((await conn.exists(opts.keys.replayStatus(opts.id))) === 0) {
        opts.onUnknown()
        return
      }
      let last = '0-0'
      let ended = false
      while (!stopped) {
        if (opts.backlogged()) {
          await new Promise((r) => setTimeout(r, 20))
          continue
        }
        const reply = (await conn.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', key, last)) as
          [string, [string, string[]][]][] | null
        const entries = reply?.[0]?.[1] ?? []
        if (entries.length === 0) {
          if (ended) break
          const raw = await conn.hget(opts.keys.replayStatus(opts.id), 'json')
          if (raw === null || (JSON.parse(raw) as ReplayStatus).state !== 'running') ended = true
          continue
        }
        const events: RawEvent[] = []
        for (const [id, fields] of entries) {
          last = id
          let stream = ''
          let flag = 'normal'
          let json = ''
          for (let i = 0; i + 1 < fields.length; i += 2) {
            if (fields[i] === 's') stream = fields[i + 1]!
            else if (fields[i] === 'f') flag = fields[i + 1]!
            else if (fields[i] === 'e') json = fields[i + 1]!
          }
          const channel = stream === REPLAY_PROGRESS_STREAM ? REPLAY_CONTROL_CHANNEL : ''
          events.push({ id, channel, stream, anomalyFlag: flag, json })
          if (stream === REPLAY_PROGRESS_STREAM && !json.includes('"state":"running"')) ended = true
        }
        if (!stopped) opts.send(events)
      }
    } catch {
      // the subscriber went away (connection closed under the read)
    } finally {
      conn.disconnect()
    }
  })()
  return () => {
    stopped = true
    conn.disconnect()
  }
}
