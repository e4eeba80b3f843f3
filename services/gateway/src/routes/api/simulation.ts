/**
 * Simulation control over REST (CONTRACT.md): state, start/pause/resume, speed.
 * Mutations go to the generator over the control stream; `Idempotency-Key`
 * makes a retried request return the first result without applying twice.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { MAX_SPEED, MIN_SPEED, type ControlAction } from '@verisim/schema'
import { readEpoch } from '@verisim/bus'
import { requireAdmin } from '../../auth.js'
import { BadRequestError, ErrorBody, NotReadyError } from '../../errors.js'

const State = Type.Object({}, { additionalProperties: true })
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
})

const simulation: FastifyPluginAsyncTypebox = async (app) => {
  const admin = requireAdmin(app.config.adminToken)

  async function run(
    req: FastifyRequest,
    reply: FastifyReply,
    action: ControlAction,
    payload: Record<string, unknown> = {},
  ) {
    const key = req.headers['idempotency-key']
    if (Array.isArray(key)) throw new BadRequestError('send one Idempotency-Key header, not several')
    const res = await app.control.request(action, payload, key ? `idem:${key}` : undefined)
    if (!res.success) {
      const err = res.error ?? { code: 'VS_GW_INTERNAL', message: 'control failed', status: 500 }
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } })
    }
    return res.result
  }

  app.get(
    '/api/simulation/state',
    { schema: { response: { 200: State, 503: ErrorBody } } },
    async () => {
      const raw = await app.redis.get(app.streams.keys.state)
      if (raw === null) throw new NotReadyError('no simulation state yet: is the generator running?')
      const epoch = await readEpoch(app.redis, app.streams.keys)
      return { ...(JSON.parse(raw) as object), epoch: epoch?.epoch ?? null }
    },
  )

  const mutation = {
    preHandler: admin,
    schema: {
      headers: IdempotencyHeaders,
      response: { 200: State, 400: ErrorBody, 401: ErrorBody, 409: ErrorBody, 501: ErrorBody, 504: ErrorBody },
    },
  }
  for (const action of ['start', 'pause', 'resume'] as const) {
    app.post(`/api/simulation/${action}`, mutation, (req, reply) => run(req, reply, action))
  }
  app.post(
    '/api/simulation/speed',
    {
      ...mutation,
      schema: {
        ...mutation.schema,
        body: Type.Object(
          {
            multiplier: Type.Number({
              minimum: MIN_SPEED,
              maximum: MAX_SPEED,
              description: `simulation seconds per wall second, ${MIN_SPEED} … ${MAX_SPEED}`,
            }),
          },
          { additionalProperties: false },
        ),
      },
    },
    (req, reply) => run(req, reply, 'set_speed', { multiplier: req.body.multiplier }),
  )
}

export default simulation
