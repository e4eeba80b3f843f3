/**
 * `GET /api/simulation/events` — recent events for clients that poll instead of
 * stream: filter by topic (`stream`), page with `since`, at most `limit`, read
 * from the channel streams up to what this gateway has released.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import {
  createTopicMatcher,
  parseIsoTime,
  StreamEventSchema,
  UnknownTopicError,
} from '@verisim/schema'
import { isEventId } from '@verisim/bus'
import { BadRequestError, ErrorBody, NotReadyError, UnknownTopicHttpError } from '../../errors.js'
import { expensiveRead } from '../../expensive.js'
import { readRecent, RECENT_MAX_SCAN, type Since } from '../../recent.js'

export const RECENT_DEFAULT_LIMIT = 100
export const RECENT_MAX_LIMIT = 1000

const Query = Type.Object(
  {
    stream: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4000,
        description:
          'a stream name or topic (`customer.*`, `anomalies`, `high-frequency`, …); several comma-separated; default every stream',
      }),
    ),
    since: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description:
          'an event id (`<ms>-<seq>`: events after it) or an ISO 8601 time (events whose simulation time is after it)',
      }),
    ),
    limit: Type.Integer({
      minimum: 1,
      maximum: RECENT_MAX_LIMIT,
      default: RECENT_DEFAULT_LIMIT,
      description: `most events returned, 1 … ${RECENT_MAX_LIMIT}`,
    }),
  },
  { additionalProperties: false },
)

const Answer = Type.Object(
  {
    events: Type.Array(StreamEventSchema, { description: 'oldest first' }),
    lastId: Type.String({ description: 'pass as `since` to get what comes next' }),
  },
  { additionalProperties: false },
)

const recentEvents: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/simulation/events',
    {
      ...expensiveRead(app.config),
      schema: {
        description: `Recent events, oldest first. Without \`since\`: the newest \`limit\`; with an id: the first \`limit\` after it; with a time: the first \`limit\` after that simulation time. Reads at most ${RECENT_MAX_SCAN} stream entries (per channel going back), so a rare match may need several calls: go on from \`lastId\`.`,
        querystring: Query,
        response: { 200: Answer, 400: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const reason = app.streams.notReadyReason()
      if (reason !== null) throw new NotReadyError(`gateway not ready: ${reason}`)
      const { stream, since: raw, limit } = req.query
      const topics = (stream ?? '*')
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0)
      if (topics.length === 0)
        throw new BadRequestError(
          'stream is empty; expected e.g. stream=customer.* or a stream name',
        )
      let match
      try {
        match = createTopicMatcher(topics, app.streams.catalog())
      } catch (err) {
        if (err instanceof UnknownTopicError)
          throw new UnknownTopicHttpError(`stream: ${err.message}`)
        throw err
      }
      let since: Since = null
      if (raw !== undefined) {
        // A time is read like every other time the gateway takes: a day that does
        // not exist (2026-02-30) is refused, and no offset means UTC.
        const ms = isEventId(raw) ? null : parseIsoTime(raw)
        if (isEventId(raw)) since = { id: raw }
        else if (ms !== null) since = { time: new Date(ms).toISOString() }
        else
          throw new BadRequestError(
            `since ${JSON.stringify(String(raw).slice(0, 100))} is neither an event id ("<ms>-<seq>") nor an ISO 8601 time on a calendar day that exists`,
          )
      }
      const { redis, keys, channels } = app.streams.catchupContext()
      const out = await readRecent({ redis, keys, channels }, match, {
        since,
        limit,
        upTo: app.streams.frontier(),
      })
      // The envelopes are stored as JSON already: sent as they are (a string
      // payload skips the response serializer), so the schema documents them.
      const body = `{"events":[${out.events.map((e) => e.json).join(',')}],"lastId":${JSON.stringify(out.lastId)}}`
      return reply.type('application/json; charset=utf-8').send(body as never)
    },
  )
}

export default recentEvents
