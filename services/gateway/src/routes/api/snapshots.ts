/**
 * Snapshots, restore and time travel over REST (issue 19, docs/API.md "Time
 * travel"): save the engine now, list and delete saved snapshots, restore one
 * (a new timeline), travel to any moment of the run (a new timeline, paused
 * there) or preview it (`dryRun`), and list the timelines a restore or a travel
 * left. Everything goes to the generator over the control stream; the
 * mutations honour `ADMIN_TOKEN` and `Idempotency-Key`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { CreateSnapshotPayloadSchema, TravelPayloadSchema } from '@verisim/schema'
import { requireAdmin } from '../../auth.js'
import { ControlErrors, IdempotencyHeaders, controlRunner } from '../../control-route.js'

const Anything = Type.Object({}, { additionalProperties: true })
const SnapshotId = Type.Object(
  { id: Type.String({ pattern: '^snap_[0-9]+$', maxLength: 64, description: 'e.g. snap_3' }) },
  { additionalProperties: false },
)
/** A switch of timeline reads a snapshot, encodes one and re-simulates: seconds, more for a travel far ahead. */
const SWITCH_TIMEOUT_MS = 120_000

const snapshots: FastifyPluginAsyncTypebox = async (app) => {
  const admin = requireAdmin(app.config.adminToken)
  const run = controlRunner(app)
  /** Options of a mutation: the admin token, an Idempotency-Key, the generator's answer as it is. */
  const mutation = <S extends object>(description: string, schema: S) => ({
    onRequest: admin,
    schema: {
      description,
      headers: IdempotencyHeaders,
      response: { 200: Anything, ...ControlErrors },
      ...schema,
    },
  })

  app.post(
    '/api/simulation/snapshot',
    mutation(
      'Save the engine now (world state, random streams, scenario layer, clock, commands so far) under a name.',
      { body: CreateSnapshotPayloadSchema },
    ),
    (req, reply) => run(req, reply, 'create_snapshot', req.body),
  )

  app.get(
    '/api/simulation/snapshots',
    {
      schema: {
        description:
          'The saved snapshots (id, name, description, simulated time, created, size, kind), the automatic ones (times, interval, memory) and the current timeline.',
        response: { 200: Anything, ...ControlErrors },
      },
    },
    (req, reply) => run(req, reply, 'list_snapshots'),
  )

  app.delete(
    '/api/simulation/snapshots/:id',
    mutation("Delete a saved snapshot (not the run's start).", { params: SnapshotId }),
    (req, reply) => run(req, reply, 'delete_snapshot', { id: req.params.id }),
  )

  app.post(
    '/api/simulation/restore/:id',
    mutation(
      "Continue the run from a saved snapshot's state and time: a new timeline (new stream epoch; clients are told epoch_changed).",
      { params: SnapshotId },
    ),
    (req, reply) => run(req, reply, 'restore_snapshot', { id: req.params.id }, SWITCH_TIMEOUT_MS),
  )

  app.post(
    '/api/simulation/travel',
    mutation(
      'Take the run to `targetTime` exactly (re-simulated from the nearest snapshot with the commands logged up to it) and pause there: a new timeline. `dryRun: true` returns the state and the events around the target without switching.',
      { body: TravelPayloadSchema },
    ),
    (req, reply) => run(req, reply, 'travel', req.body, SWITCH_TIMEOUT_MS),
  )

  app.get(
    '/api/simulation/timelines',
    {
      schema: {
        description:
          'The current timeline and those a restore or a travel left, each with its commands and the snapshot that goes back to it.',
        response: { 200: Anything, ...ControlErrors },
      },
    },
    (req, reply) => run(req, reply, 'list_timelines'),
  )
}

export default snapshots
