/**
 * History over REST (CONTRACT.md): the stored baseline joined with live
 * buckets as points of an interval, the baseline statistics, the stored
 * versions and what a regenerated version changed. Query strings are read by
 * `./history-query.ts`; the rest is what the generator wrote, through the
 * `@verisim/bus` history reader (which caches parsed documents). The history
 * itself is built in chunks and cached compressed per version
 * (`../../history-body.ts`), with a weak ETag; every route here is an
 * expensive read (rate-limited, compressed: `../../expensive.ts`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import createError from '@fastify/error'
import Type from 'typebox'
import {
  DEFAULT_DIFF_INTERVAL,
  DEFAULT_HISTORY_INTERVAL,
  HISTORY_INTERVALS,
  HistoryError,
  HistoryErrorCode,
  MAX_HISTORY_POINTS,
  createHistoryReader,
} from '@verisim/bus'
import { BadRequestError, ErrorBody, ErrorCode, NotReadyError } from '../../errors.js'
import { expensiveRead } from '../../expensive.js'
import { acceptsGzip, createHistoryBodies, etagMatches } from '../../history-body.js'
import { parseDiffQuery, parseHistoryQuery, parseStatisticsQuery } from './history-query.js'

const NotFoundError = createError(ErrorCode.notFound, '%s', 404)

/** `number | null` as one JSON type (fast to serialize, unlike an anyOf). */
const NullableNumber = Type.Unsafe<number | null>({ type: ['number', 'null'] })
const Anything = Type.Object({}, { additionalProperties: true })
const Interval = (fallback: string) =>
  Type.String({
    description: `point width: ${HISTORY_INTERVALS.join(', ')} (default ${fallback})`,
    examples: [fallback],
  })
const Streams = Type.String({
  description: 'comma-separated stream names (default: every stream)',
  examples: ['session.completed,customer.tutor.search'],
})

const Point = Type.Object({
  timestamp: Type.String({ description: 'start of the point’s interval (UTC-aligned)' }),
  value: NullableNumber,
  normalized: NullableNumber,
  partial: Type.Optional(Type.Boolean({ description: 'the interval extends past now' })),
})

const HistoryResponse = Type.Object({
  timeRange: Type.Object({
    start: Type.String(),
    end: Type.String({ description: 'exclusive' }),
    interval: Type.String(),
    baselineFrom: Type.String(),
    liveFrom: Type.String(),
    now: Type.String({ description: 'current simulation time' }),
    version: Type.Integer(),
    mode: Type.String(),
  }),
  streams: Type.Record(Type.String(), Type.Array(Point)),
  events: Type.Array(Anything),
})

const StatisticsResponse = Type.Object({
  calculatedFrom: Type.String(),
  version: Type.Integer(),
  interval: Type.String(),
  streams: Type.Record(Type.String(), Anything),
})

const Window = Type.Union([
  Type.Object({ start: Type.Number(), end: Type.Number() }, { additionalProperties: true }),
  Type.Null(),
])

const VersionsResponse = Type.Object({
  current: Type.Integer(),
  mode: Type.String(),
  versions: Type.Array(Anything),
  job: Type.Union([Anything, Type.Null()]),
})

const DiffResponse = Type.Object({
  baseVersion: Type.Integer(),
  version: Type.Integer(),
  interval: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  window: Window,
  streams: Type.Array(
    Type.Object({
      name: Type.String(),
      measure: Type.String(),
      changedPoints: Type.Integer(),
      baselineTotal: NullableNumber,
      modifiedTotal: NullableNumber,
      change: NullableNumber,
      points: Type.Array(
        Type.Object({
          timestamp: Type.String(),
          baseline: NullableNumber,
          modified: NullableNumber,
          delta: NullableNumber,
        }),
      ),
    }),
  ),
})

/** Maps the history reader's errors to the gateway's HTTP errors. */
function toHttpError(err: unknown): unknown {
  if (!(err instanceof HistoryError)) return err
  switch (err.code) {
    case HistoryErrorCode.notReady:
      return new NotReadyError(err.message, { cause: err })
    case HistoryErrorCode.badQuery:
      return new BadRequestError(err.message, { cause: err })
    case HistoryErrorCode.unknownVersion:
      return new NotFoundError(err.message, { cause: err })
  }
}

const history: FastifyPluginAsyncTypebox = async (app) => {
  const reader = createHistoryReader({ redis: app.redis, keys: app.streams.keys })
  const { metrics } = app
  const bodies = createHistoryBodies({
    maxBytes: app.config.historyCacheBytes,
    builds: app.config.historyBuilds,
    onAnswer: (source) => metrics.historyAnswers.inc({ source }),
    onBuilt(seconds) {
      metrics.historyBuildSeconds.observe(seconds)
      metrics.historyCacheBytes.set(bodies.cachedBytes)
    },
  })
  const expensive = expensiveRead(app.config)
  const read = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      throw toHttpError(err)
    }
  }

  app.get(
    '/api/simulation/history',
    {
      ...expensive,
      // Compressed here, once per answer and cached (not per response).
      compress: false,
      schema: {
        description: `The stored baseline joined with live data as points of an interval (at most ${MAX_HISTORY_POINTS} points). The last point is \`partial\` when its interval extends past now. Gzip-compressed when accepted; a weak \`ETag\` per history version (and per simulation time while the range covers live data still filling), \`If-None-Match\` → 304; rate-limited per client (429 \`VS_GW_RATE_LIMITED\` with \`Retry-After\`).`,
        querystring: Type.Object(
          {
            start: Type.Optional(
              Type.String({
                description: 'ISO 8601 or "now"; floored to the interval (default: end − 7 days)',
                examples: ['2026-11-16T00:00:00Z'],
              }),
            ),
            end: Type.Optional(
              Type.String({
                description:
                  'ISO 8601 or "now" (the current simulation time), exclusive (default now)',
                examples: ['now'],
              }),
            ),
            streams: Type.Optional(Streams),
            interval: Type.Optional(Interval(DEFAULT_HISTORY_INTERVAL)),
          },
          { additionalProperties: false },
        ),
        response: {
          200: HistoryResponse,
          304: Type.Null({ description: 'the answer has not changed (`If-None-Match`)' }),
          400: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const plan = await read(() => reader.plan(parseHistoryQuery(req.query)))
      reply.header('cache-control', 'no-cache').header('vary', 'accept-encoding')
      const etag = bodies.etag(plan)
      if (etagMatches(req.headers['if-none-match'], etag)) {
        metrics.historyAnswers.inc({ source: 'not_modified' })
        return reply.code(304).header('etag', etag).send(null)
      }
      const body = await read(() => bodies.get(plan))
      reply.header('etag', body.etag).type('application/json; charset=utf-8')
      if (acceptsGzip(req.headers['accept-encoding'])) {
        return reply.header('content-encoding', 'gzip').send(body.gzip as never)
      }
      return reply.send((await bodies.plain(body)) as never)
    },
  )

  app.get(
    '/api/simulation/statistics',
    {
      ...expensive,
      schema: {
        description:
          'Baseline statistics (`BaselineStatistics`) of each stream’s values at one interval.',
        querystring: Type.Object(
          {
            streams: Type.Optional(Streams),
            interval: Type.Optional(Interval(DEFAULT_HISTORY_INTERVAL)),
          },
          { additionalProperties: false },
        ),
        response: { 200: StatisticsResponse, 400: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    (req) => read(() => reader.statistics(parseStatisticsQuery(req.query))),
  )

  app.get(
    '/api/simulation/history/versions',
    {
      schema: {
        description:
          'Stored history versions (0 = baseline; each past external event makes a new one), the one served, and the regeneration job.',
        response: { 200: VersionsResponse, 503: ErrorBody },
      },
    },
    () => read(() => reader.versions()),
  )

  app.get(
    '/api/simulation/history/diff',
    {
      ...expensive,
      schema: {
        description:
          'What a regenerated version changed against the baseline (version 0): only the streams and points that differ.',
        querystring: Type.Object(
          {
            version: Type.Optional(
              Type.Integer({ minimum: 0, description: 'default: the version served' }),
            ),
            interval: Type.Optional(Interval(DEFAULT_DIFF_INTERVAL)),
          },
          { additionalProperties: false },
        ),
        response: {
          200: DiffResponse,
          400: ErrorBody,
          404: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    (req) => read(() => reader.diff(parseDiffQuery(req.query))),
  )
}

export default history
