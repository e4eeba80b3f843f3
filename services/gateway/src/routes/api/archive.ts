/**
 * The archive over REST (PostgreSQL, written by services/archiver):
 *
 * - `GET /api/events` — events of the whole run by topic, time, entity; paged
 *   by id. Where the archive lags the streams, the Redis window answers the
 *   newest part (`source` says which answered).
 * - `GET /api/journeys/:entityId` — one entity's events in order, with the
 *   world module's milestones and what acted on the world meanwhile.
 * - `GET /api/metrics/aggregate` — counts, anomaly shares and the world's key
 *   figures over a time range, grouped by time, stream, channel or flag.
 *
 * Each reads one epoch (timeline): the current one unless `epoch` names
 * another. Without an archive they answer 503 `VS_GW_ARCHIVE_UNAVAILABLE` with
 * the reason.
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import type pg from 'pg'
import {
  createTopicMatcher,
  parseIsoTime,
  READ_ONLY_ACTIONS,
  parseTopic,
  SpecialChannel,
  UnknownTopicError,
  type StreamInfo,
  type WorldDescription,
} from '@verisim/schema'
import {
  compareIds,
  createWorldDescriptionReader,
  isEventId,
  readEpoch,
  readRange,
} from '@verisim/bus'
import {
  ArchiveUnavailableError,
  BadRequestError,
  ErrorBody,
  NotReadyError,
  UnknownTopicHttpError,
} from '../../errors.js'
import { expensiveRead } from '../../expensive.js'

export const ARCHIVE_DEFAULT_LIMIT = 100
export const ARCHIVE_MAX_LIMIT = 1000
const HOUR = 3_600_000
const DAY = 24 * HOUR

const Epoch = Type.String({
  pattern: '^[0-9a-f]{16}$',
  description: 'a stream epoch (16 hex digits); default the current one',
})
const Time = (what: string) =>
  Type.String({ minLength: 1, maxLength: 40, description: `ISO 8601 simulation time: ${what}` })
const Limit = Type.Integer({
  minimum: 1,
  maximum: ARCHIVE_MAX_LIMIT,
  default: ARCHIVE_DEFAULT_LIMIT,
  description: `most events returned, 1 … ${ARCHIVE_MAX_LIMIT}`,
})
const Cursor = Type.String({
  pattern: '^[0-9]{1,15}-[0-9]{1,15}$',
  description: 'the `nextCursor` of the previous page: events after that id',
})
const EntityId = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[^\\u0000]+$',
  description: 'an entity id as events carry it (e.g. a studentId)',
})

const ArchivedEvent = Type.Unknown({ description: 'an event envelope as published' })

const EventsQuery = Type.Object(
  {
    stream: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4000,
        description:
          'topics as for subscriptions (`customer.*`, a stream name, `anomalies`, `external-events`, `simulation_control`, a cadence group), comma-separated; default all',
      }),
    ),
    start: Type.Optional(Time('from (inclusive)')),
    end: Type.Optional(Time('to (exclusive)')),
    entity: Type.Optional(EntityId),
    limit: Limit,
    cursor: Type.Optional(Cursor),
    epoch: Type.Optional(Epoch),
  },
  { additionalProperties: false },
)

const EventsAnswer = Type.Object(
  {
    epoch: Type.String(),
    events: Type.Array(ArchivedEvent, { description: 'in publication (id) order' }),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'pass as `cursor` for the next page; null when this was the last',
    }),
    source: Type.Union([Type.Literal('archive'), Type.Literal('archive+redis')], {
      description:
        '`archive+redis` when the newest events came from the streams (the archive lags)',
    }),
  },
  { additionalProperties: false },
)

const Milestone = Type.Object(
  {
    name: Type.String(),
    label: Type.String(),
    at: Type.String({ description: 'simulation time (ISO 8601)' }),
    eventId: Type.String(),
    stream: Type.String(),
  },
  { additionalProperties: false },
)

const JourneyQuery = Type.Object(
  {
    start: Type.Optional(Time('from (inclusive)')),
    end: Type.Optional(Time('to (exclusive)')),
    types: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4000,
        description: 'only these streams (comma-separated exact names) in `events`',
      }),
    ),
    limit: Limit,
    cursor: Type.Optional(Cursor),
    epoch: Type.Optional(Epoch),
  },
  { additionalProperties: false },
)

const JourneyAnswer = Type.Object(
  {
    entityId: Type.String(),
    epoch: Type.String(),
    total: Type.Integer({ description: 'events of the entity in the range (all types)' }),
    first: Type.Union([Type.String(), Type.Null()]),
    last: Type.Union([Type.String(), Type.Null()]),
    streams: Type.Record(Type.String(), Type.Integer(), {
      description: 'events per stream in the range',
    }),
    milestones: Type.Array(Milestone, { description: "the world module's, in time order" }),
    context: Type.Array(ArchivedEvent, {
      description:
        'external events and applied control commands between the first and last event (at most 100): what acted on the world meanwhile',
    }),
    events: Type.Array(ArchivedEvent),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
)

const GROUP_BY = ['hour', 'day', 'stream', 'channel', 'anomaly_flag'] as const
const AggregateQuery = Type.Object(
  {
    time_range: Type.Optional(
      Type.String({
        pattern: '^([0-9]{1,4}[hd]|all)$',
        description:
          'the last `<n>h` or `<n>d` of the run (up to its newest archived hour), or `all`; default 24h. Ignored when `start` is given',
      }),
    ),
    start: Type.Optional(Time('from (inclusive, rounded down to the hour)')),
    end: Type.Optional(Time('to (exclusive); default the end of the newest archived hour')),
    group_by: Type.Union(
      GROUP_BY.map((g) => Type.Literal(g)),
      { default: 'day', description: `one of ${GROUP_BY.join(', ')}` },
    ),
    stream: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4000,
        description: 'only these streams (topics as for /api/events, comma-separated)',
      }),
    ),
    epoch: Type.Optional(Epoch),
  },
  { additionalProperties: false },
)

const Kpi = Type.Object(
  {
    name: Type.String(),
    label: Type.String(),
    value: Type.Union([Type.Number(), Type.Null()], {
      description: 'null for a ratio with nothing to divide by',
    }),
  },
  { additionalProperties: false },
)

const AggregateAnswer = Type.Object(
  {
    epoch: Type.String(),
    start: Type.Union([Type.String(), Type.Null()]),
    end: Type.Union([Type.String(), Type.Null()]),
    group_by: Type.String(),
    total: Type.Integer(),
    groups: Type.Array(
      Type.Object(
        {
          key: Type.String(),
          events: Type.Integer(),
          warning: Type.Integer(),
          critical: Type.Integer(),
          meanNormalizedValue: Type.Union([Type.Number(), Type.Null()]),
          kpis: Type.Array(Kpi),
        },
        { additionalProperties: false },
      ),
    ),
    kpis: Type.Array(Kpi, { description: "the world module's key figures over the whole range" }),
  },
  { additionalProperties: false },
)

/** A SQL condition with its parameters, numbered from `$<base+1>`. */
export class Where {
  readonly parts: string[] = []
  readonly params: unknown[]
  constructor(params: unknown[] = []) {
    this.params = params
  }
  add(sql: (p: (v: unknown) => string) => string): this {
    this.parts.push(sql((v) => `$${this.params.push(v)}`))
    return this
  }
  toString(): string {
    return this.parts.length === 0 ? 'TRUE' : this.parts.join(' AND ')
  }
}

/** Topics (as for subscriptions) as a SQL condition on stream, channel and flag; null: all. */
export function topicCondition(
  raw: string | undefined,
  catalog: readonly StreamInfo[],
  where: Where,
  param: string,
): void {
  if (raw === undefined) return
  const topics = raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
  if (topics.length === 0) {
    throw new BadRequestError(
      `${param} is empty; expected e.g. ${param}=customer.* or a stream name`,
    )
  }
  const streams = new Set<string>()
  const channels = new Set<string>()
  const domains = new Set<string>()
  let anomalies = false
  const unknown: string[] = []
  for (const t of topics) {
    const p = parseTopic(t, catalog)
    if (!p) unknown.push(t)
    else if (p.kind === 'all') return
    else if (p.kind === 'stream') streams.add(p.stream)
    else if (p.kind === 'domain') {
      for (const s of catalog) if (s.domain === p.domain) streams.add(s.name)
      domains.add(p.domain) // and streams archived under that prefix the catalog no longer lists
    } else if (p.kind === 'cadence') {
      for (const s of catalog) if (s.cadence === p.cadence) streams.add(s.name)
    } else if (p.kind === 'anomalies') anomalies = true
    else if (p.kind === 'external') channels.add(SpecialChannel.external)
    else channels.add(SpecialChannel.control)
  }
  if (unknown.length > 0) {
    throw new UnknownTopicHttpError(`${param}: ${new UnknownTopicError(unknown).message}`)
  }
  const ors: string[] = []
  where.add((p) => {
    if (streams.size > 0) ors.push(`stream = ANY(${p([...streams])}::text[])`)
    if (channels.size > 0) ors.push(`channel = ANY(${p([...channels])}::text[])`)
    for (const d of domains) ors.push(`starts_with(stream, ${p(`${d}.`)})`)
    if (anomalies) ors.push(`anomaly_flag <> 'normal'`)
    return `(${ors.join(' OR ')})`
  })
}

function time(raw: string | undefined, param: string): number | null {
  if (raw === undefined) return null
  const ms = parseIsoTime(raw)
  if (ms === null) {
    throw new BadRequestError(
      `${param} ${JSON.stringify(raw.slice(0, 40))} is not an ISO 8601 time on a calendar day that exists (e.g. 2026-11-23T08:00:00Z)`,
    )
  }
  return ms
}

export function range(
  start: string | undefined,
  end: string | undefined,
): [number | null, number | null] {
  const s = time(start, 'start')
  const e = time(end, 'end')
  if (s !== null && e !== null && e <= s) {
    throw new BadRequestError(`end ${end} is not after start ${start}; expected start < end`)
  }
  return [s, e]
}

function cursorParts(cursor: string): [string, string] {
  const [ms, seq] = cursor.split('-') as [string, string]
  return [ms, seq]
}

const PG_UNAVAILABLE = /^(08|57P0|53)/ // connection exceptions, shutdowns, insufficient resources

/** Runs a query; a PostgreSQL that went away or a query over its time answers 503. */
export async function query<T extends pg.QueryResultRow>(
  app: FastifyInstance,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const pool = await app.archive.pool()
  try {
    // Named after its text: each connection plans it once and keeps the plan (over
    // a month of partitions, planning takes longer than a journey's execution).
    const name = `vs_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`
    return (await pool.query<T>({ name, text: sql, values: params })).rows
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    if (code === '57014') {
      throw new ArchiveUnavailableError(
        'the archive query took over 30 s; narrow it (a shorter time range, a stream or an entity)',
      )
    }
    if (PG_UNAVAILABLE.test(code) || !/^[0-9A-Z]{5}$/.test(code)) {
      throw new ArchiveUnavailableError(
        `the archive's PostgreSQL did not answer: ${(err as Error).message}`,
      )
    }
    throw err
  }
}

const archive: FastifyPluginAsyncTypebox = async (app) => {
  const worldReader = createWorldDescriptionReader(app.redis, app.streams.keys)

  async function currentEpoch(given: string | undefined): Promise<string> {
    if (given !== undefined) return given
    const e = await readEpoch(app.redis, app.streams.keys)
    if (e === null) throw new NotReadyError('no stream epoch yet: is the generator running?')
    return e.epoch
  }

  function catalog(): readonly StreamInfo[] {
    const reason = app.streams.notReadyReason()
    if (reason !== null) throw new NotReadyError(`gateway not ready: ${reason}`)
    return app.streams.catalog()
  }

  app.get(
    '/api/events',
    {
      ...expensiveRead(app.config),
      schema: {
        description:
          'Events of the whole run from the archive, in publication order, filtered by topic, simulation time and entity id; page with `cursor`. Where the archive lags the streams, the newest events come from Redis (`source`).',
        querystring: EventsQuery,
        response: { 200: EventsAnswer, 400: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const q = req.query
      const cat = catalog()
      const [start, end] = range(q.start, q.end)
      const epoch = await currentEpoch(q.epoch)
      const where = new Where([epoch]).add(() => 'epoch = $1')
      topicCondition(q.stream, cat, where, 'stream')
      if (start !== null) where.add((p) => `ts >= ${p(new Date(start).toISOString())}`)
      if (end !== null) where.add((p) => `ts < ${p(new Date(end).toISOString())}`)
      if (q.entity !== undefined) where.add((p) => `entities @> ARRAY[${p(q.entity)}]::text[]`)
      if (q.cursor !== undefined) {
        const [ms, seq] = cursorParts(q.cursor)
        where.add((p) => `(id_ms, id_seq) > (${p(ms)}::bigint, ${p(seq)}::bigint)`)
      }
      // With an entity: its rows by the entities index first, then ordered (walking
      // the key in order and filtering would read the whole run for a rare entity).
      const rows = await query<{ id: string; envelope: string }>(
        app,
        q.entity === undefined
          ? `SELECT id, envelope::text AS envelope FROM events WHERE ${where}
             ORDER BY id_ms, id_seq LIMIT ${q.limit + 1}`
          : `WITH m AS MATERIALIZED (SELECT id_ms, id_seq, ts FROM events WHERE ${where}),
                  k AS (SELECT * FROM m ORDER BY id_ms, id_seq LIMIT ${q.limit + 1})
             SELECT e.id, e.envelope::text AS envelope FROM k
             JOIN events e ON e.epoch = $1 AND e.id_ms = k.id_ms AND e.id_seq = k.id_seq AND e.ts = k.ts
             ORDER BY k.id_ms, k.id_seq`,
        where.params,
      )
      let events = rows.slice(0, q.limit)
      let more = rows.length > q.limit
      let source: 'archive' | 'archive+redis' = 'archive'
      if (!more) {
        // The archive may lag the streams: the rest comes from Redis, after what it holds.
        const tail = await redisTail(app, epoch, q, cat, start, end, events.at(-1)?.id ?? q.cursor)
        if (tail.events.length > 0) {
          source = 'archive+redis'
          const room = q.limit - events.length
          events = events.concat(tail.events.slice(0, room))
          more = tail.events.length > room || tail.more
        }
      }
      const body = `{"epoch":${JSON.stringify(epoch)},"events":[${events.map((e) => e.envelope).join(',')}],"nextCursor":${
        more && events.length > 0 ? JSON.stringify(events.at(-1)!.id) : 'null'
      },"source":"${source}"}`
      return reply.type('application/json; charset=utf-8').send(body as never)
    },
  )

  /**
   * The events of the current epoch's streams after the newest the archive
   * holds (and after `after`), matching the query: at most `limit + 1`.
   */
  async function redisTail(
    app: FastifyInstance,
    epoch: string,
    q: { stream?: string; entity?: string; limit: number },
    cat: readonly StreamInfo[],
    start: number | null,
    end: number | null,
    after: string | undefined,
  ): Promise<{ events: { id: string; envelope: string }[]; more: boolean }> {
    const live = await readEpoch(app.redis, app.streams.keys)
    if (live?.epoch !== epoch) return { events: [], more: false }
    const newest = await query<{ id: string }>(
      app,
      'SELECT id FROM events WHERE epoch = $1 ORDER BY id_ms DESC, id_seq DESC LIMIT 1',
      [epoch],
    )
    let from = newest[0]?.id ?? null
    if (after !== undefined && (from === null || compareIds(after, from) > 0)) from = after
    const frontier = app.streams.frontier()
    if (from !== null && compareIds(from, frontier) >= 0) return { events: [], more: false }
    const match =
      q.stream === undefined
        ? null
        : createTopicMatcher(
            q.stream
              .split(',')
              .map((t) => t.trim())
              .filter((t) => t.length > 0),
            cat,
          )
    const out: { id: string; envelope: string }[] = []
    let cursor = from
    const SCAN_MAX = 20_000
    let scanned = 0
    for (;;) {
      const page = await readRange(
        app.redis,
        app.streams.keys,
        app.streams.channels(),
        cursor,
        frontier,
        1000,
      )
      for (const e of page.events) {
        scanned++
        cursor = e.id
        if (match && !match(e)) continue
        if (start !== null || end !== null || q.entity !== undefined) {
          const env = JSON.parse(e.json) as { timestamp: string; data?: Record<string, unknown> }
          const ts = Date.parse(env.timestamp)
          if (start !== null && ts < start) continue
          if (end !== null && ts >= end) continue
          if (q.entity !== undefined && !Object.values(env.data ?? {}).includes(q.entity)) continue
        }
        out.push({ id: e.id, envelope: e.json })
        if (out.length > q.limit) return { events: out, more: true }
      }
      if (!page.more || scanned >= SCAN_MAX) return { events: out, more: page.more }
    }
  }

  app.get(
    '/api/journeys/:entityId',
    {
      ...expensiveRead(app.config),
      schema: {
        description:
          "One entity's journey from the archive: its events in order (paged), counts per stream, the world's milestones (first search, first booking, churn …) and the external events and control commands that acted on the world between its first and last event.",
        params: Type.Object({ entityId: EntityId }, { additionalProperties: false }),
        querystring: JourneyQuery,
        response: { 200: JourneyAnswer, 400: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (req) => {
      const { entityId } = req.params
      const q = req.query
      const cat = catalog()
      const [start, end] = range(q.start, q.end)
      const epoch = await currentEpoch(q.epoch)
      const base = new Where([epoch, entityId])
        .add(() => 'epoch = $1')
        .add(() => 'entities @> ARRAY[$2]::text[]')
      if (start !== null) base.add((p) => `ts >= ${p(new Date(start).toISOString())}`)
      if (end !== null) base.add((p) => `ts < ${p(new Date(end).toISOString())}`)

      const page = new Where([...base.params])
      page.parts.push(...base.parts)
      if (q.types !== undefined) {
        const types = q.types
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t.length > 0)
        const known = new Set(cat.map((s) => s.name))
        const bad = types.filter((t) => !known.has(t) && !t.startsWith('simulation.'))
        if (types.length === 0 || bad.length > 0) {
          throw new BadRequestError(
            `types: ${bad.length > 0 ? `unknown stream ${bad.map((b) => JSON.stringify(b)).join(', ')}` : 'empty'}; expected stream names of GET /api/streams, comma-separated`,
          )
        }
        page.add((p) => `stream = ANY(${p(types)}::text[])`)
      }
      if (q.cursor !== undefined) {
        const [ms, seq] = cursorParts(q.cursor)
        page.add((p) => `(id_ms, id_seq) > (${p(ms)}::bigint, ${p(seq)}::bigint)`)
      }
      // Per stream: count, first and last (milestones come from these), and the
      // page, at once. The entity's rows are found by the entities index first
      // (MATERIALIZED), then ordered: walking the key in order and filtering
      // would read the whole run for an entity with few events.
      const [perStream, rows, world] = await Promise.all([
        query<{ stream: string; n: number; fts: Date; fid: string; lts: Date; lid: string }>(
          app,
          `WITH m AS MATERIALIZED (SELECT stream, id, id_ms, id_seq, ts FROM events WHERE ${base})
           SELECT stream, count(*)::int AS n,
                  (array_agg(ts ORDER BY id_ms, id_seq))[1] AS fts,
                  (array_agg(id ORDER BY id_ms, id_seq))[1] AS fid,
                  (array_agg(ts ORDER BY id_ms DESC, id_seq DESC))[1] AS lts,
                  (array_agg(id ORDER BY id_ms DESC, id_seq DESC))[1] AS lid
           FROM m GROUP BY stream`,
          base.params,
        ),
        query<{ id: string; envelope: unknown }>(
          app,
          `WITH m AS MATERIALIZED (SELECT id_ms, id_seq, ts FROM events WHERE ${page}),
                k AS (SELECT * FROM m ORDER BY id_ms, id_seq LIMIT ${q.limit + 1})
           SELECT e.id, e.envelope FROM k
           JOIN events e ON e.epoch = $1 AND e.id_ms = k.id_ms AND e.id_seq = k.id_seq AND e.ts = k.ts
           ORDER BY k.id_ms, k.id_seq`,
          page.params,
        ),
        worldReader.read().catch(() => null),
      ])
      const streams: Record<string, number> = {}
      let total = 0
      let first: number | null = null
      let last: number | null = null
      for (const c of perStream) {
        streams[c.stream] = c.n
        total += c.n
        first = first === null ? c.fts.getTime() : Math.min(first, c.fts.getTime())
        last = last === null ? c.lts.getTime() : Math.max(last, c.lts.getTime())
      }
      const milestones = milestonesOf(world, perStream)
      const more = rows.length > q.limit
      const events = rows.slice(0, q.limit)

      let context: unknown[] = []
      if (first !== null && last !== null) {
        const ctx = await query<{ envelope: unknown }>(
          app,
          `SELECT envelope FROM events
           WHERE epoch = $1 AND ts >= $2 AND ts <= $3
             AND channel IN ('external', 'simulation_control') -- (the partial index events_context)
             AND (channel = $4 OR (stream = 'simulation.ack' AND envelope->'data'->>'success' = 'true'
                  AND NOT (envelope->'data'->>'action' = ANY($5::text[]))))
           ORDER BY id_ms, id_seq LIMIT 100`,
          [
            epoch,
            new Date(first).toISOString(),
            new Date(last).toISOString(),
            SpecialChannel.external,
            READ_ONLY_ACTIONS, // reads acted on nothing
          ],
        )
        context = ctx.map((c) => c.envelope)
      }
      return {
        entityId,
        epoch,
        total,
        first: first === null ? null : new Date(first).toISOString(),
        last: last === null ? null : new Date(last).toISOString(),
        streams,
        milestones,
        context,
        events: events.map((e) => e.envelope),
        nextCursor: more && events.length > 0 ? events.at(-1)!.id : null,
      }
    },
  )

  app.get(
    '/api/metrics/aggregate',
    {
      ...expensiveRead(app.config),
      schema: {
        description:
          "Aggregates over the archive (hourly counts kept as events are archived): events, warnings, criticals and the mean normalized value per group, and the world's key figures (counts and ratios of streams) over the range and per group.",
        querystring: AggregateQuery,
        response: { 200: AggregateAnswer, 400: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (req) => {
      const q = req.query
      const cat = catalog()
      const epoch = await currentEpoch(q.epoch)
      let [start, end] = range(q.start, q.end)
      if (start === null) {
        const spec = q.time_range ?? '24h'
        if (spec !== 'all') {
          const n = Number(spec.slice(0, -1))
          if (n === 0) throw new BadRequestError('time_range must be at least 1h or 1d')
          if (end === null) {
            const [r] = await query<{ hour: Date | null }>(
              app,
              'SELECT max(hour) AS hour FROM events_hourly WHERE epoch = $1',
              [epoch],
            )
            end = r?.hour ? r.hour.getTime() + HOUR : null
          }
          if (end !== null) start = end - n * (spec.endsWith('d') ? DAY : HOUR)
        }
      }
      const where = new Where([epoch]).add(() => 'epoch = $1')
      if (start !== null)
        where.add(
          (p) => `hour >= date_trunc('hour', ${p(new Date(start!).toISOString())}::timestamptz)`,
        )
      if (end !== null) where.add((p) => `hour < ${p(new Date(end!).toISOString())}::timestamptz`)
      topicCondition(q.stream, cat, where, 'stream')
      const key =
        q.group_by === 'hour'
          ? `to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00:00Z"')`
          : q.group_by === 'day'
            ? `to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
            : q.group_by
      const rows = await query<{
        key: string
        stream: string
        n: string
        warning: string
        critical: string
        vsum: number
      }>(
        app,
        `SELECT ${key} AS key, stream, sum(n) AS n,
                sum(n) FILTER (WHERE anomaly_flag = 'warning') AS warning,
                sum(n) FILTER (WHERE anomaly_flag = 'critical') AS critical,
                sum(value_sum) AS vsum
         FROM events_hourly WHERE ${where} GROUP BY 1, 2 ORDER BY 1`,
        where.params,
      )
      const world = await worldReader.read().catch(() => null)
      const kpis = world?.kpis ?? []
      const groups = new Map<
        string,
        {
          events: number
          warning: number
          critical: number
          vsum: number
          byStream: Map<string, number>
        }
      >()
      const all = new Map<string, number>()
      let total = 0
      for (const r of rows) {
        let g = groups.get(r.key)
        if (!g)
          groups.set(
            r.key,
            (g = { events: 0, warning: 0, critical: 0, vsum: 0, byStream: new Map() }),
          )
        const n = Number(r.n)
        g.events += n
        g.warning += Number(r.warning ?? 0)
        g.critical += Number(r.critical ?? 0)
        g.vsum += Number(r.vsum)
        g.byStream.set(r.stream, (g.byStream.get(r.stream) ?? 0) + n)
        all.set(r.stream, (all.get(r.stream) ?? 0) + n)
        total += n
      }
      return {
        epoch,
        start: start === null ? null : new Date(start).toISOString(),
        end: end === null ? null : new Date(end).toISOString(),
        group_by: q.group_by,
        total,
        groups: [...groups].map(([k, g]) => ({
          key: k,
          events: g.events,
          warning: g.warning,
          critical: g.critical,
          meanNormalizedValue: g.events === 0 ? null : Math.round((g.vsum / g.events) * 10) / 10,
          kpis: kpiValues(kpis, g.byStream),
        })),
        kpis: kpiValues(kpis, all),
      }
    },
  )
}

/** The world's milestones of an entity: the first (or last) of its events on their streams. */
function milestonesOf(
  world: WorldDescription | null,
  perStream: readonly { stream: string; fts: Date; fid: string; lts: Date; lid: string }[],
): { name: string; label: string; at: string; eventId: string; stream: string }[] {
  const byStream = new Map(perStream.map((r) => [r.stream, r]))
  const out: { name: string; label: string; at: string; eventId: string; stream: string }[] = []
  for (const m of world?.milestones ?? []) {
    let pick: { at: number; id: string; stream: string } | null = null
    for (const s of m.streams) {
      const r = byStream.get(s)
      if (!r) continue
      const at = (m.which === 'first' ? r.fts : r.lts).getTime()
      const id = m.which === 'first' ? r.fid : r.lid
      if (pick === null || (m.which === 'first' ? at < pick.at : at > pick.at)) {
        pick = { at, id, stream: s }
      }
    }
    if (pick) {
      out.push({
        name: m.name,
        label: m.label,
        at: new Date(pick.at).toISOString(),
        eventId: pick.id,
        stream: pick.stream,
      })
    }
  }
  return out.sort((a, b) => a.at.localeCompare(b.at))
}

function kpiValues(
  kpis: NonNullable<WorldDescription['kpis']>,
  byStream: ReadonlyMap<string, number>,
): { name: string; label: string; value: number | null }[] {
  const sum = (streams: readonly string[]) =>
    streams.reduce((a, s) => a + (byStream.get(s) ?? 0), 0)
  return kpis.map((k) => {
    if (k.ratio) {
      const per = sum(k.ratio.per)
      return {
        name: k.name,
        label: k.label,
        value: per === 0 ? null : Math.round((sum(k.ratio.of) / per) * 10_000) / 10_000,
      }
    }
    return { name: k.name, label: k.label, value: sum(k.count ?? []) }
  })
}

export default archive
