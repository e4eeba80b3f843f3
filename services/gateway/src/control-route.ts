/**
 * Shared by the REST routes that go through the control plane: turns a request
 * into a command (deduplicated by `Idempotency-Key` when given: per caller,
 * bound to the action and body), waits for the
 * generator's result and answers it, mapping a failure to its HTTP status and
 * `{"error":{"code","message"}}`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import type { AnyControlAction } from '@verisim/schema'
import { BadRequestError, ErrorBody } from './errors.js'
import { bearerToken } from './auth.js'
import { callerKey } from './plugins/app/control.js'

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
  422: ErrorBody,
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
    /** How long to wait for the generator (default 10 s; a travel far ahead takes longer). */
    timeoutMs?: number,
  ): Promise<unknown> {
    const key = req.method === 'GET' ? undefined : req.headers['idempotency-key']
    if (Array.isArray(key))
      throw new BadRequestError('send one Idempotency-Key header, not several')
    // The key is the caller's: scoped to its token and address, bound to the
    // action and the body (the same key for another one is a 422).
    const res = await app.control.request(
      action,
      payload,
      key
        ? {
            key: callerKey('rest', { token: bearerToken(req), address: req.ip }, key),
            label: `Idempotency-Key ${JSON.stringify(key)}`,
            ...(timeoutMs === undefined ? {} : { timeoutMs }),
          }
        : timeoutMs === undefined
          ? {}
          : { timeoutMs },
    )
    if (!res.success) {
      const err = res.error ?? { code: 'VS_GW_INTERNAL', message: 'control failed', status: 500 }
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } })
    }
    return res.result
  }
}
