/**
 * The running world over REST: its description (`GET /api/world`, written by
 * the generator at start and cached here per revision) and its actions
 * (`POST /api/world/actions/:name`), which go through the control plane as
 * `world_action` like every command: validated by the generator against the
 * action's schema, logged, replayed on restart. The gateway knows worlds only
 * through that description.
 */
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import {
  WorldActionNameSchema,
  WorldActionResultSchema,
  WorldDescriptionSchema,
  type WorldActionResult,
} from '@verisim/schema'
import { createWorldDescriptionReader } from '@verisim/bus'
import { requireAdmin } from '../../auth.js'
import { ControlErrors, IdempotencyHeaders, controlRunner } from '../../control-route.js'
import { ErrorBody, NotReadyError } from '../../errors.js'

const world: FastifyPluginAsyncTypebox = async (app) => {
  const admin = requireAdmin(app.config.adminToken)
  const run = controlRunner(app)
  const reader = createWorldDescriptionReader(app.redis, app.streams.keys)

  app.get(
    '/api/world',
    {
      schema: {
        description:
          "The running world: id, model, channels, streams, persona segments, the world's actions with the JSON Schema of each payload, and the keys of its figures (`stats` in the simulation state).",
        response: { 200: WorldDescriptionSchema, 503: ErrorBody },
      },
    },
    async () => {
      const description = await reader.read()
      if (description === null)
        throw new NotReadyError(
          'no world description yet: the generator writes it when it starts; is it running?',
        )
      return description
    },
  )

  app.post(
    '/api/world/actions/:name',
    {
      onRequest: admin,
      preValidation: emptyBodyIsEmptyObject,
      schema: {
        description:
          "Applies a world action (e.g. tutoring's `spawn_students`) with the body as its payload, checked against the action's schema from `GET /api/world`; sent to the generator as the control action `world_action`. 404 `VS_SIM_UNKNOWN_ACTION` for an action the world does not have, 400 `VS_SIM_BAD_ARGUMENT` naming the field for a payload it refuses.",
        headers: IdempotencyHeaders,
        params: Type.Object({ name: WorldActionNameSchema }, { additionalProperties: false }),
        body: Type.Object(
          {},
          {
            additionalProperties: true,
            description: "the action's payload (its JSON Schema is in GET /api/world)",
          },
        ),
        response: { 200: WorldActionResultSchema, ...ControlErrors },
      },
    },
    async (req, reply) =>
      (await run(req, reply, 'world_action', {
        name: req.params.name,
        payload: req.body as Record<string, unknown>,
      })) as WorldActionResult,
  )
}

/** No body at all stands for `{}` (an action without fields). */
async function emptyBodyIsEmptyObject(req: FastifyRequest): Promise<void> {
  if (req.body === undefined || req.body === null) req.body = {}
}

export default world
