/**
 * Gateway error codes and the HTTP errors built from them. Clients always get
 * `{"error":{"code","message"}}`.
 */
import createError from '@fastify/error'
import { jsonErrorWhere } from '@verisim/schema'

export const ErrorCode = {
  badRequest: 'VS_GW_BAD_REQUEST',
  badJson: 'VS_GW_BAD_JSON',
  tooDeep: 'VS_GW_TOO_DEEP',
  bodyTooLarge: 'VS_GW_BODY_TOO_LARGE',
  unsupportedMediaType: 'VS_GW_UNSUPPORTED_MEDIA_TYPE',
  methodNotAllowed: 'VS_GW_METHOD_NOT_ALLOWED',
  requestConflict: 'VS_GW_REQUEST_CONFLICT',
  notFound: 'VS_GW_NOT_FOUND',
  notReady: 'VS_GW_NOT_READY',
  archiveUnavailable: 'VS_GW_ARCHIVE_UNAVAILABLE',
  unknownTopic: 'VS_GW_UNKNOWN_TOPIC',
  unauthorized: 'VS_GW_UNAUTHORIZED',
  rateLimited: 'VS_GW_RATE_LIMITED',
  internal: 'VS_GW_INTERNAL',
} as const

export const NotReadyError = createError(ErrorCode.notReady, '%s', 503)
export const ArchiveUnavailableError = createError(ErrorCode.archiveUnavailable, '%s', 503)
export const UnknownTopicHttpError = createError(ErrorCode.unknownTopic, '%s', 400)
export const BadRequestError = createError(ErrorCode.badRequest, '%s', 400)
export const NotFoundError = createError(ErrorCode.notFound, '%s', 404)
export const TooDeepError = createError(ErrorCode.tooDeep, '%s', 400)

/** Fastify's own error codes and the documented ones clients get instead. */
const FASTIFY_CODES: Record<string, { code: string; status: number; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: ErrorCode.badJson, status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: ErrorCode.badJson,
    status: 400,
    message: 'the body is empty but Content-Type is application/json; send a JSON body or none',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: ErrorCode.bodyTooLarge, status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: ErrorCode.unsupportedMediaType,
    status: 415,
    message: 'unsupported Content-Type; send application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: ErrorCode.badRequest, status: 400 },
  FST_ERR_CTP_INVALID_TYPE: { code: ErrorCode.badRequest, status: 400 },
  FST_ERR_BAD_URL: { code: ErrorCode.badRequest, status: 400 },
  FST_ERR_ASYNC_CONSTRAINT: { code: ErrorCode.badRequest, status: 400 },
}

/** The documented code for a status when an error carries none of ours. */
function codeForStatus(status: number): string {
  switch (status) {
    case 401:
      return ErrorCode.unauthorized
    case 404:
      return ErrorCode.notFound
    case 405:
      return ErrorCode.methodNotAllowed
    case 413:
      return ErrorCode.bodyTooLarge
    case 415:
      return ErrorCode.unsupportedMediaType
    case 422:
      return ErrorCode.requestConflict
    case 429:
      return 'VS_GW_RATE_LIMITED'
    case 503:
      return ErrorCode.notReady
    default:
      return status >= 500 ? ErrorCode.internal : ErrorCode.badRequest
  }
}

interface AjvError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

/**
 * A validation failure as one line naming the field: `body/multiplier: must be
 * number`, `body: unexpected field "speed"`, `body: missing required field "scenarioId"`.
 */
export function describeValidation(context: string | undefined, errors: AjvError[]): string {
  return errors
    .slice(0, 5)
    .map((e) => {
      const where = `${context ?? 'request'}${e.instancePath ?? ''}`
      const p = e.params ?? {}
      if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string')
        return `${where}: unexpected field ${JSON.stringify(p.additionalProperty)}`
      if (e.keyword === 'required' && typeof p.missingProperty === 'string')
        return `${where}: missing required field ${JSON.stringify(p.missingProperty)}`
      if (e.keyword === 'enum' && Array.isArray(p.allowedValues))
        return `${where}: must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
      return `${where}: ${e.message ?? 'is invalid'}`
    })
    .join('; ')
}

/**
 * Any error thrown in a request as what the client gets: a documented
 * `VS_*` code, a status, and a message (5xx internals hidden).
 */
export function toErrorReply(err: {
  code?: string
  statusCode?: number
  message: string
  validation?: AjvError[]
  validationContext?: string
}): { status: number; code: string; message: string; internal: boolean } {
  if (err.validation) {
    return {
      status: 400,
      code: ErrorCode.badRequest,
      message: describeValidation(err.validationContext, err.validation),
      internal: false,
    }
  }
  const mapped = err.code === undefined ? undefined : FASTIFY_CODES[err.code]
  if (mapped)
    return {
      status: mapped.status,
      code: mapped.code,
      message: mapped.message ?? err.message,
      internal: false,
    }
  const status =
    err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
  const ours = typeof err.code === 'string' && err.code.startsWith('VS_')
  // 5xx internals stay in the log; our own "not ready" / "timed out" say what to do.
  if (status >= 500 && !(ours && (status === 503 || status === 504)))
    return { status, code: ErrorCode.internal, message: 'internal error', internal: true }
  if (!ours && status === 400 && err instanceof SyntaxError)
    return {
      status,
      code: ErrorCode.badJson,
      message: err.message.includes('prototype')
        ? 'the body may not set "__proto__" or "constructor.prototype"'
        : `the body is not valid JSON${jsonErrorWhere(err)}`,
      internal: false,
    }
  return {
    status,
    code: ours ? (err.code as string) : codeForStatus(status),
    message: err.message,
    internal: false,
  }
}
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
