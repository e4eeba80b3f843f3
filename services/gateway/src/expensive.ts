/**
 * Reads whose cost grows with the data (history, statistics, diff, recent
 * events, the external-events list, correlations) must not starve live
 * delivery: each is rate-limited per client (`@fastify/rate-limit`, a 429 in
 * the `VS_GW_RATE_LIMITED` form with `Retry-After`) and compressed when the
 * client accepts it (`@fastify/compress`). Both plugins are registered once,
 * not global; a route opts in by spreading {@link expensiveRead}.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import compress from '@fastify/compress'
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit'
import type { GatewayConfig } from './config.js'
import { tokenMatches } from './auth.js'
import { RateLimitedError } from './errors.js'

/** Registers rate limiting and compression for the routes that opt in. */
export async function registerExpensiveReads(app: FastifyInstance, config: GatewayConfig) {
  await app.register(rateLimit, {
    global: false,
    // Holders of the admin token (operators, the admin page) are not limited.
    allowList: (req: FastifyRequest) => {
      if (config.adminToken === null) return false
      const header = req.headers.authorization
      return (
        header?.startsWith('Bearer ') === true && tokenMatches(config.adminToken, header.slice(7))
      )
    },
    errorResponseBuilder: (req, ctx) => {
      req.server.metrics?.rateLimited.inc({ route: req.routeOptions.url ?? 'unknown' })
      return new RateLimitedError(
        `too many requests to ${req.routeOptions.url ?? req.url}: at most ${ctx.max} per ${Math.round(ctx.ttl / 1000) || 1} s per client; retry in ${ctx.after}`,
      )
    },
  })
  await app.register(compress, { global: false, threshold: 1024 })
}

/**
 * Route options of an expensive read: per-client rate limit (unless
 * `VERISIM_RATE_LIMIT_MAX=0`) and response compression.
 *
 * @example
 * app.get('/api/simulation/statistics', { ...expensiveRead(app.config), schema }, handler)
 */
export function expensiveRead(config: GatewayConfig): {
  compress: Record<string, never>
  config: { rateLimit: RateLimitOptions | false }
} {
  return {
    compress: {},
    config: {
      rateLimit:
        config.rateLimitMax > 0
          ? { max: config.rateLimitMax, timeWindow: config.rateLimitWindowMs }
          : false,
    },
  }
}
