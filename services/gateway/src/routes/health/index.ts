/** `/health/live`, `/health/ready` and `/metrics` (CONTRACT.md). */
import type { FastifyPluginAsync } from 'fastify'

const health: FastifyPluginAsync = async (app) => {
  app.get('/health/live', async () => ({ status: 'ok' }))
  app.get('/health/ready', async (_req, reply) => {
    try {
      await app.redis.ping()
    } catch (err) {
      return reply
        .code(503)
        .send({ status: 'unavailable', reason: `Redis unreachable: ${(err as Error).message}` })
    }
    const reason = app.streams.notReadyReason()
    if (reason !== null) return reply.code(503).send({ status: 'unavailable', reason })
    // Unauthenticated: no host name, PID or instance id (those are in the logs).
    return {
      status: 'ready',
      clients: app.streams.fanout.clientCount,
      frontier: app.streams.frontier(),
    }
  })
  app.get('/metrics', async (_req, reply) => {
    app.metrics.clients.set({ transport: 'all' }, app.streams.fanout.clientCount)
    let sum = 0
    let max = 0
    for (const c of app.streams.fanout.clients()) {
      const b = c.sink.bufferedBytes()
      sum += b
      if (b > max) max = b
    }
    app.metrics.bufferedBytes.set({ stat: 'sum' }, sum)
    app.metrics.bufferedBytes.set({ stat: 'max' }, max)
    reply.type(app.metrics.registry.contentType)
    return app.metrics.registry.metrics()
  })
}

export default health
