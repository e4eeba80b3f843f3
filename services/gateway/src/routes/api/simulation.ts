/**
 * Simulation control over REST (CONTRACT.md): state, start/pause/resume, speed.
 * Mutations go to the generator over the control stream; `Idempotency-Key`
 * makes a retried request return the first result without applying twice.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { MAX_SPEED, MIN_SPEED, SimulationStateSchema, type SimulationState } from '@verisim/schema'
import { readEpoch } from '@verisim/bus'
import { requireAdmin } from '../../auth.js'
import { ErrorBody, NotReadyError } from '../../errors.js'
import { ControlErrors, IdempotencyHeaders, controlRunner } from '../../control-route.js'

/** The state document the generator writes, serialised with its schema (packages/schema/src/state.ts). */
const State = SimulationStateSchema

const simulation: FastifyPluginAsyncTypebox = async (app) => {
  const admin = requireAdmin(app.config.adminToken)

  const run = controlRunner(app)

  app.get(
    '/api/simulation/state',
    { schema: { response: { 200: State, 503: ErrorBody } } },
    async (): Promise<SimulationState> => {
      const raw = await app.redis.get(app.streams.keys.state)
      if (raw === null)
        throw new NotReadyError('no simulation state yet: is the generator running?')
      const epoch = await readEpoch(app.redis, app.streams.keys)
      return { ...(JSON.parse(raw) as SimulationState), epoch: epoch?.epoch ?? null }
    },
  )

  const mutation = {
    onRequest: admin,
    // the generator's answer to the command (the state it reached), passed through as it is
    schema: {
      headers: IdempotencyHeaders,
      response: { 200: Type.Object({}, { additionalProperties: true }), ...ControlErrors },
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
