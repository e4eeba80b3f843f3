/**
 * Shared by the REST routes that go through the control plane: turns a request
 * into a command (requestId from `Idempotency-Key` when given), waits for the
 * generator's result and answers it, mapping a failure to its HTTP status and
 * `{"error":{"code","message"}}`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import type { AnyControlAction } from '@verisim/schema'
import { BadRequestError, ErrorBody } from './errors.js'

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'a repeated key returns the first response and applies nothing twice',
    }),
  ),
})

/** Error responses a control route may give. */
export const ControlErrors = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  500: ErrorBody,
  501: ErrorBody,
  504: ErrorBody,
}

export function controlRunner(app: FastifyInstance) {
  return async function run(
    req: FastifyRequest,
    reply: FastifyReply,
    action: AnyControlAction,
    payload: Record<string, unknown> = {},
  ): Promise<unknown> {
    const key = req.headers['idempotency-key']
    if (Array.isArray(key))
      throw new BadRequestError('send one Idempotency-Key header, not several')
    const res = await app.control.request(
      action,
      payload,
      key ? `idem:${action}:${key}` : undefined,
    )
    if (!res.success) {
      const err = res.error ?? { code: 'VS_GW_INTERNAL', message: 'control failed', status: 500 }
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } })
    }
    return res.result
  }
}
