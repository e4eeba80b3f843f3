/**
 * Scenarios over REST (CONTRACT.md): the catalog, activate, stop (settling),
 * reset to baseline. Mutations go through the control plane.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { requireAdmin } from '../../auth.js'
import { ControlErrors, IdempotencyHeaders, controlRunner } from '../../control-route.js'
import { ErrorBody, NotReadyError } from '../../errors.js'

const ScenarioInfo = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    duration: Type.String({ description: 'ISO 8601 duration of the active phase, e.g. PT8H' }),
  },
  { additionalProperties: true },
)
const Anything = Type.Object({}, { additionalProperties: true })

const scenarios: FastifyPluginAsyncTypebox = async (app) => {
  const admin = requireAdmin(app.config.adminToken)
  const run = controlRunner(app)

  app.get(
    '/api/simulation/scenarios',
    {
      schema: {
        response: { 200: Type.Object({ scenarios: Type.Array(ScenarioInfo) }), 503: ErrorBody },
      },
    },
    async () => {
      const raw = await app.redis.get(app.streams.keys.scenarios)
      if (raw === null)
        throw new NotReadyError('no scenario catalog yet: is the generator running?')
      return { scenarios: JSON.parse(raw) as [] }
    },
  )

  app.post(
    '/api/simulation/scenario',
    {
      preHandler: admin,
      schema: {
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            scenarioId: Type.String({
              minLength: 1,
              maxLength: 200,
              description: 'an id from /api/simulation/scenarios',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Anything, ...ControlErrors },
      },
    },
    (req, reply) => run(req, reply, 'set_scenario', { scenarioId: req.body.scenarioId }),
  )

  app.post(
    '/api/simulation/stop',
    {
      preHandler: admin,
      schema: { headers: IdempotencyHeaders, response: { 200: Anything, ...ControlErrors } },
    },
    (req, reply) => run(req, reply, 'stop_scenario'),
  )

  app.post(
    '/api/simulation/history/scenario',
    {
      preHandler: admin,
      schema: {
        description:
          'Applies a scenario to the 30-day baseline retroactively, from `start` (inside the baseline) for its duration and settlement (or until `stop`). The regeneration runs as a job; the answer names the new version and the window it changes.',
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            scenarioId: Type.String({ minLength: 1, maxLength: 200 }),
            start: Type.String({ format: 'date-time', description: 'activation time (ISO 8601)' }),
            stop: Type.Optional(
              Type.String({ format: 'date-time', description: 'stopped early here (ISO 8601)' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Anything, ...ControlErrors },
      },
    },
    (req, reply) => run(req, reply, 'history_scenario', { ...req.body }),
  )

  app.post(
    '/api/simulation/reset',
    {
      preHandler: admin,
      schema: { headers: IdempotencyHeaders, response: { 200: Anything, ...ControlErrors } },
    },
    (req, reply) => run(req, reply, 'reset'),
  )
}

export default scenarios
