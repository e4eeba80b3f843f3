/**
 * `GET /sse?topics=…` — Server-Sent Events: one message per event with
 * `id: <event id>`, `event: <stream>`, `data: <envelope>`; resume with the
 * `Last-Event-ID` header (or `?lastId=`), comment heartbeats every 15 s.
 * A resume point that cannot be honoured gets an `event: catchup` message with
 * `{"reason":"too_old"|"epoch_changed"}` before live events.
 * Without a resume point the first message is `event: snapshot` with
 * `data: {"events":[…]}` (the last 10 events of each matched stream, oldest
 * first) and no `id:` line, so `Last-Event-ID` only ever names a live event and
 * resuming never mistakes the sparse snapshot for a gap-free sequence;
 * `?snapshot=0` turns it off.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { EventIdSchema, UnknownTopicError, createTopicMatcher } from '@verisim/schema'
import { encodeSse, type Sink } from '../../fanout.js'
import { createSession } from '../../session.js'
import { isReplayTopic } from '../../replay.js'
import { ErrorBody, NotReadyError, UnknownTopicHttpError, BadRequestError } from '../../errors.js'

const ID_RE = /^[0-9]{1,15}-[0-9]{1,15}$/

const sse: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/sse',
    {
      sse: { kind: 'only', heartbeat: true },
      schema: {
        querystring: Type.Object(
          {
            topics: Type.Optional(
              Type.String({ maxLength: 4000, description: 'comma-separated topics; default "*"' }),
            ),
            lastId: Type.Optional(EventIdSchema),
            token: Type.Optional(Type.String()),
            snapshot: Type.Optional(
              Type.Union(
                [Type.Literal('0'), Type.Literal('1'), Type.Literal('false'), Type.Literal('true')],
                {
                  description:
                    '"0" or "false": no `snapshot` message of recent events when no resume point is given',
                },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 400: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const notReady = app.streams.notReadyReason()
      if (notReady !== null) throw new NotReadyError(`gateway not ready: ${notReady}`)
      const topics = (req.query.topics ?? '*')
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0)
      if (topics.length === 0)
        throw new BadRequestError(
          'topics is empty; expected e.g. ?topics=* or ?topics=customer.*,anomalies',
        )
      const header = req.headers['last-event-id']
      const lastId = (Array.isArray(header) ? header[0] : header) || req.query.lastId
      if (lastId !== undefined && !ID_RE.test(lastId)) {
        throw new BadRequestError(
          `Last-Event-ID ${JSON.stringify(lastId)} is not an event id; expected "<ms>-<seq>"`,
        )
      }

      const raw = reply.raw
      const sink: Sink = {
        kind: 'sse',
        write: (chunk) => void raw.write(chunk),
        bufferedBytes: () => raw.writableLength,
        close: () => reply.sse.close(),
      }
      const session = createSession(app, sink)
      try {
        session.subscribe(topics)
      } catch (err) {
        session.close()
        if (err instanceof UnknownTopicError) throw new UnknownTopicHttpError(err.message)
        throw err
      }
      const worldTopics = topics.filter((t) => !isReplayTopic(t))
      const wantSnapshot =
        lastId === undefined &&
        worldTopics.length > 0 &&
        req.query.snapshot !== '0' &&
        req.query.snapshot !== 'false'
      if (lastId !== undefined || wantSnapshot) session.hold()
      app.metrics.clients.inc({ transport: 'sse' })
      reply.sse.keepAlive()
      reply.sse.onClose(() => {
        session.close()
        app.metrics.clients.dec({ transport: 'sse' })
      })
      reply.sse.sendHeaders()
      raw.write(': connected\n\n')
      if (lastId !== undefined) {
        await session.resume(
          { lastId },
          {
            page(events) {
              if (events.length > 0) raw.write(encodeSse(events))
            },
            lost(reason) {
              raw.write(`event: catchup\ndata: ${JSON.stringify({ reason })}\n\n`)
            },
            snapshot(events) {
              raw.write(
                `event: snapshot\ndata: {"events":[${events.map((e) => e.json).join(',')}]}\n\n`,
              )
            },
          },
        )
      } else if (wantSnapshot) {
        await session.snapshot(createTopicMatcher(worldTopics, app.streams.catalog()), (events) => {
          raw.write(
            `event: snapshot\ndata: {"events":[${events.map((e) => e.json).join(',')}]}\n\n`,
          )
        })
      }
    },
  )
}

export default sse
