/**
 * Gateway error codes and the HTTP errors built from them. Clients always get
 * `{"error":{"code","message"}}`.
 */
import createError from '@fastify/error'

export const ErrorCode = {
  badRequest: 'VS_GW_BAD_REQUEST',
  notFound: 'VS_GW_NOT_FOUND',
  notReady: 'VS_GW_NOT_READY',
  unknownTopic: 'VS_GW_UNKNOWN_TOPIC',
  unauthorized: 'VS_GW_UNAUTHORIZED',
  rateLimited: 'VS_GW_RATE_LIMITED',
  internal: 'VS_GW_INTERNAL',
} as const

export const NotReadyError = createError(ErrorCode.notReady, '%s', 503)
export const UnknownTopicHttpError = createError(ErrorCode.unknownTopic, '%s', 400)
export const BadRequestError = createError(ErrorCode.badRequest, '%s', 400)
export const RateLimitedError = createError(ErrorCode.rateLimited, '%s', 429)

export const ErrorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const
