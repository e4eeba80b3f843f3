/** Decorates the app with its validated settings. */
import fp from 'fastify-plugin'
import type { GatewayConfig } from '../../config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: GatewayConfig
  }
}

export default fp<{ config: GatewayConfig }>(
  async (app, { config }) => {
    app.decorate('config', config)
  },
  { name: 'config' },
)
