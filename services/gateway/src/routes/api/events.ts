/**
 * External events and correlations over REST (CONTRACT.md): the world's library
 * of templates, list and inject external events (past ones regenerate history,
 * future ones wait for their time), and ask which events moved a stream or
 * which streams an event moved.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import {
  ExternalEventInputSchema,
  ExternalEventTemplateInfoSchema,
  type ExternalEventTemplateInfo,
} from '@verisim/schema'
import { requireAdmin } from '../../auth.js'
import { ControlErrors, IdempotencyHeaders, controlRunner } from '../../control-route.js'
import { BadRequestError, ErrorBody, NotReadyError } from '../../errors.js'
import { expensiveRead } from '../../expensive.js'

const Anything = Type.Object({}, { additionalProperties: true })
const Time = Type.String({ format: 'date-time' })

/**
 * The injection body: the engine's input schema (every field size-limited,
 * `EXTERNAL_EVENT_LIMITS`) with `timestamp` an ISO 8601 date-time on a real
 * calendar day (or epoch ms); unknown fields refused. The generator checks
 * the time against the run's window.
 */
const ExternalEventBody = Type.Object(
  {
    ...ExternalEventInputSchema.properties,
    timestamp: Type.Union([Type.String({ format: 'date-time', maxLength: 64 }), Type.Integer()]),
  },
  { additionalProperties: false },
)

const events: FastifyPluginAsyncTypebox = async (app) => {
  const admin = requireAdmin(app.config.adminToken)
  const run = controlRunner(app)

  app.get(
    '/api/events/templates',
    {
      schema: {
        description:
          "The world's external-event library: the `templateId`s `POST /api/events/external` accepts, with what each is expected to do. (An addition to the contract.)",
        response: {
          200: Type.Object(
            { templates: Type.Array(ExternalEventTemplateInfoSchema) },
            { additionalProperties: false },
          ),
          503: ErrorBody,
        },
      },
    },
    async () => {
      const raw = await app.redis.get(app.streams.keys.templates)
      if (raw === null)
        throw new NotReadyError('no external-event library yet: is the generator running?')
      return { templates: JSON.parse(raw) as ExternalEventTemplateInfo[] }
    },
  )

  app.get(
    '/api/events/external',
    {
      ...expensiveRead(app.config),
      schema: {
        querystring: Type.Object(
          { start: Type.Optional(Time), end: Type.Optional(Time) },
          { additionalProperties: false },
        ),
        response: { 200: Anything, ...ControlErrors, 429: ErrorBody },
      },
    },
    (req, reply) => run(req, reply, 'list_external_events', { ...req.query }),
  )

  app.post(
    '/api/events/external',
    {
      onRequest: admin,
      schema: {
        headers: IdempotencyHeaders,
        description:
          'Inject an external event: `templateId` from the world library (plus overrides), or a full event. `timestamp` may be in the past or the future.',
        body: ExternalEventBody,
        response: { 200: Anything, ...ControlErrors },
      },
    },
    (req, reply) => run(req, reply, 'inject_event', req.body as Record<string, unknown>),
  )

  app.get(
    '/api/correlations',
    {
      ...expensiveRead(app.config),
      schema: {
        querystring: Type.Object(
          {
            stream: Type.Optional(Type.String({ minLength: 1 })),
            event: Type.Optional(Type.String({ minLength: 1 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Anything, ...ControlErrors, 429: ErrorBody },
      },
    },
    (req, reply) => {
      const { stream, event } = req.query
      if ((stream === undefined) === (event === undefined)) {
        throw new BadRequestError(
          'give exactly one of ?stream=<stream name> or ?event=<external event id>',
        )
      }
      return run(
        req,
        reply,
        'get_correlations',
        stream !== undefined ? { stream } : { event: event as string },
      )
    },
  )
}

export default events
