/**
 * The generator's own HTTP face: health and metrics only (CONTRACT.md).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { GeneratorLoop } from './loop.js'
import type { GeneratorMetrics } from './metrics.js'

export function buildServer({
  redis,
  loop,
  metrics,
  log,
}: {
  redis: Redis
  loop: GeneratorLoop
  metrics: GeneratorMetrics
  log: Logger
}): FastifyInstance {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  })
  app.get('/health/live', async () => ({ status: 'ok' }))
  app.get('/health/ready', async (_req, reply) => {
    try {
      await redis.ping()
    } catch (err) {
      return reply
        .code(503)
        .send({ status: 'unavailable', reason: `Redis unreachable: ${(err as Error).message}` })
    }
    if (!loop.healthy) {
      return reply
        .code(503)
        .send({ status: 'unavailable', reason: 'simulation not started or last write failed' })
    }
    return { status: 'ready', epoch: loop.epoch?.epoch, eventsWritten: loop.eventsWritten }
  })
  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
  return app
}
