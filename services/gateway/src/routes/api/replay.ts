/**
 * Replay of the archive over REST: `POST /api/streams/replay` publishes an
 * archived range again on the topic `replay:<id>` at the requested speed (see
 * ../../replay.ts); `GET /api/streams/replay/:id` its status,
 * `DELETE /api/streams/replay/:id` cancels it, `GET /api/streams/replays` lists
 * the last hour's. Starting and cancelling honour `ADMIN_TOKEN`; a repeated
 * `Idempotency-Key` answers the replay it started.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { readEpoch } from '@verisim/bus'
import { requireAdmin } from '../../auth.js'
import { IdempotencyHeaders } from '../../control-route.js'
import { BadRequestError, ErrorBody, NotFoundError, NotReadyError } from '../../errors.js'
import { Replays, REPLAY_KEEP_S } from '../../replay.js'
import { range, topicCondition, Where } from './archive.js'

const MAX_SPEED = 1_000_000

const ReplayBody = Type.Object(
  {
    start: Type.String({
      minLength: 1,
      maxLength: 40,
      description: 'ISO 8601 simulation time (inclusive)',
    }),
    end: Type.String({
      minLength: 1,
      maxLength: 40,
      description: 'ISO 8601 simulation time (exclusive)',
    }),
    channel: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'only this channel (e.g. "customer")',
      }),
    ),
    streams: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
        minItems: 1,
        maxItems: 200,
        description: 'only these topics (stream names, `customer.*`, `anomalies` …)',
      }),
    ),
    speed: Type.Number({
      exclusiveMinimum: 0,
      maximum: MAX_SPEED,
      default: 1,
      description: `simulated seconds per wall second (1 = as it happened), up to ${MAX_SPEED}`,
    }),
    epoch: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{16}$',
        description: 'a stream epoch; default the current one',
      }),
    ),
  },
  { additionalProperties: false },
)

const Status = Type.Object(
  {
    id: Type.String(),
    topic: Type.String({ description: 'subscribe to it over WebSocket or SSE' }),
    state: Type.Union([
      Type.Literal('running'),
      Type.Literal('done'),
      Type.Literal('cancelled'),
      Type.Literal('failed'),
    ]),
    total: Type.Integer(),
    sent: Type.Integer(),
    progress: Type.Number({ minimum: 0, maximum: 1 }),
    start: Type.String(),
    end: Type.String(),
    speed: Type.Number(),
    channel: Type.Union([Type.String(), Type.Null()]),
    streams: Type.Union([Type.Array(Type.String()), Type.Null()]),
    epoch: Type.String(),
    createdAt: Type.String(),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
)
const ReplayId = Type.Object(
  { id: Type.String({ pattern: '^[a-z0-9]{1,32}$', description: 'the replay id' }) },
  { additionalProperties: false },
)

const replay: FastifyPluginAsyncTypebox = async (app) => {
  const admin = requireAdmin(app.config.adminToken)
  const replays = new Replays({ redis: app.redis, keys: app.streams.keys, log: app.log })
  app.addHook('onClose', () => replays.close())

  app.post(
    '/api/streams/replay',
    {
      onRequest: admin,
      schema: {
        description:
          'Publish an archived range again on the topic `replay:<id>` (WebSocket and SSE, each event marked `replay: true`), paced at `speed`; progress comes on that topic as `simulation.replay` events. Live streams are untouched.',
        headers: IdempotencyHeaders,
        body: ReplayBody,
        response: { 202: Status, 200: Status, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const b = req.body
      const [start, end] = range(b.start, b.end)
      if (start === null || end === null) throw new BadRequestError('start and end are required')
      const reason = app.streams.notReadyReason()
      if (reason !== null) throw new NotReadyError(`gateway not ready: ${reason}`)
      const idemKey = req.headers['idempotency-key']
      const idem =
        typeof idemKey === 'string' ? `${app.streams.keys.replays}:idem:${idemKey}` : null
      if (idem) {
        const earlier = await app.redis.get(idem)
        const status = earlier ? await replays.status(earlier) : null
        if (status) return reply.code(200).send(status)
      }
      const epoch = b.epoch ?? (await readEpoch(app.redis, app.streams.keys))?.epoch
      if (!epoch) throw new NotReadyError('no stream epoch yet: is the generator running?')
      const where = new Where([epoch, new Date(start).toISOString(), new Date(end).toISOString()])
        .add(() => 'epoch = $1')
        .add(() => 'ts >= $2')
        .add(() => 'ts < $3')
      if (b.channel !== undefined) {
        const known = new Set(app.streams.channels())
        if (!known.has(b.channel)) {
          throw new BadRequestError(
            `channel ${JSON.stringify(b.channel)} is unknown; expected one of ${[...known].join(', ')}`,
          )
        }
        where.add((p) => `channel = ${p(b.channel)}`)
      }
      if (b.streams !== undefined) {
        topicCondition(b.streams.join(','), app.streams.catalog(), where, 'streams')
      }
      const pool = await app.archive.pool()
      const status = await replays.start(pool, {
        start,
        end,
        speed: b.speed,
        epoch,
        channel: b.channel ?? null,
        streams: b.streams ?? null,
        where: { sql: where.toString(), params: where.params },
      })
      if (idem) await app.redis.set(idem, status.id, 'EX', REPLAY_KEEP_S)
      return reply.code(202).send(status)
    },
  )

  app.get(
    '/api/streams/replay/:id',
    {
      schema: {
        description: "A replay's status: state, events sent of the total, progress.",
        params: ReplayId,
        response: { 200: Status, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const status = await replays.status(req.params.id)
      if (status === null) throw notFound(req.params.id)
      return status
    },
  )

  app.delete(
    '/api/streams/replay/:id',
    {
      onRequest: admin,
      schema: {
        description:
          'Cancel a replay (its subscribers get the final progress event, state `cancelled`).',
        params: ReplayId,
        response: { 200: Status, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const status = await replays.cancel(req.params.id)
      if (status === null) throw notFound(req.params.id)
      return status
    },
  )

  app.get(
    '/api/streams/replays',
    {
      schema: {
        description: 'Replays of the last hour, newest first.',
        response: { 200: Type.Object({ replays: Type.Array(Status) }) },
      },
    },
    async () => ({ replays: await replays.list() }),
  )
}

function notFound(id: string): Error {
  return new NotFoundError(
    `no replay ${JSON.stringify(id)} (a finished one is kept for 1 hour); start one with POST /api/streams/replay`,
  )
}

export default replay
