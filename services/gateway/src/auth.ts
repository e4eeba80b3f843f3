/**
 * ADMIN_TOKEN enforcement for control endpoints: `Authorization: Bearer <token>`.
 * Compared in constant time.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false
  const a = createHash('sha256').update(expected).digest()
  const b = createHash('sha256').update(given).digest()
  return timingSafeEqual(a, b)
}

/** The bearer token a request carries, or null. */
export function bearerToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization
  return header?.startsWith('Bearer ') ? header.slice(7) : null
}

/**
 * onRequest hook: 401 unless the request carries the admin token (no-op when
 * none is set). Runs before the body is parsed or validated, so a caller
 * without the token learns nothing about the schema.
 */
export function requireAdmin(token: string | null) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (token === null) return
    const header = req.headers.authorization
    if (!tokenMatches(token, bearerToken(req))) {
      return reply.code(401).send({
        error: {
          code: 'VS_GW_UNAUTHORIZED',
          message: header
            ? 'invalid admin token'
            : 'this endpoint needs the admin token: send "Authorization: Bearer <ADMIN_TOKEN>"',
        },
      })
    }
  }
}
