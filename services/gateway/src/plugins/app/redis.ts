/**
 * The shared Redis connection for commands (the stream reader opens its own,
 * since it spends its time blocked).
 */
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis
  }
}

export default fp(
  async (app) => {
    const redis = new Redis(app.config.redisUrl, {
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
    })
    let warned = false
    redis.on('error', (err) => {
      if (!warned) app.log.warn({ err: err.message }, 'redis connection error (retrying)')
      warned = true
    })
    redis.on('ready', () => {
      if (warned) app.log.info('redis connection restored')
      warned = false
    })
    app.decorate('redis', redis)
    app.addHook('onClose', async () => {
      redis.disconnect()
    })
  },
  { name: 'redis', dependencies: ['config'] },
)
