/**
 * Scenarios over REST (CONTRACT.md): the catalog, activate, stop (settling),
 * reset to baseline. Mutations go through the control plane.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type, { type Static } from 'typebox'
import { ScenarioReplacedSchema } from '@verisim/schema'
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
/** The answer to an activation; `replaced` names the settling scenario it ended. */
const Activation = Type.Object(
  {
    success: Type.Boolean(),
    scenario: ScenarioInfo,
    runId: Type.String(),
    events: Type.Array(Type.Unknown()),
    estimatedDuration: Type.String(),
    activeUntil: Type.String(),
    settledBy: Type.String(),
    warnings: Type.Array(Type.Unknown()),
    replaced: Type.Optional(ScenarioReplacedSchema),
  },
  { additionalProperties: true },
)

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
      onRequest: admin,
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
        description:
          'Activates a scenario. 409 VS_SIM_SCENARIO_ACTIVE while another one is active; one that is settling is replaced (it ends now) and `replaced` names it.',
        response: { 200: Activation, ...ControlErrors },
      },
    },
    // The generator's answer (services/generator/src/control.ts), checked by its tests.
    (req, reply) =>
      run(req, reply, 'set_scenario', { scenarioId: req.body.scenarioId }) as Promise<
        Static<typeof Activation>
      >,
  )

  app.post(
    '/api/simulation/stop',
    {
      onRequest: admin,
      schema: { headers: IdempotencyHeaders, response: { 200: Anything, ...ControlErrors } },
    },
    (req, reply) => run(req, reply, 'stop_scenario'),
  )

  app.post(
    '/api/simulation/history/scenario',
    {
      onRequest: admin,
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
      onRequest: admin,
      schema: { headers: IdempotencyHeaders, response: { 200: Anything, ...ControlErrors } },
    },
    (req, reply) => run(req, reply, 'reset'),
  )
}

export default scenarios
