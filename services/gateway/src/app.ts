/**
 * Builds the gateway: external plugins (WebSocket, SSE), then the app's own
 * (config, metrics, Redis, streams), then routes; one error handler that keeps
 * 5xx internals out of responses.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import websocket from '@fastify/websocket'
import { fastifySSE } from '@fastify/sse'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Logger } from 'pino'
import { MAX_FRAME_BYTES } from '@verisim/schema'
import type { GatewayConfig } from './config.js'
import { registerExpensiveReads } from './expensive.js'
import configPlugin from './plugins/app/config.js'
import metricsPlugin from './plugins/app/metrics.js'
import redisPlugin from './plugins/app/redis.js'
import streamsPlugin from './plugins/app/streams.js'
import controlPlugin from './plugins/app/control.js'
import healthRoutes from './routes/health/index.js'
import wsRoutes from './routes/ws/index.js'
import sseRoutes from './routes/sse/index.js'
import apiRoutes from './routes/api/index.js'
import simulationRoutes from './routes/api/simulation.js'
import scenarioRoutes from './routes/api/scenarios.js'
import eventRoutes from './routes/api/events.js'
import worldRoutes from './routes/api/world.js'

export async function buildApp(config: GatewayConfig, log: Logger) {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Set before any plugin so every encapsulated context inherits it.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500
    if (status >= 500 && status !== 503) {
      req.log.error({ err }, 'request failed')
      return reply
        .code(status)
        .send({ error: { code: 'VS_GW_INTERNAL', message: 'internal error' } })
    }
    const code = err.validation ? 'VS_GW_BAD_REQUEST' : (err.code ?? 'VS_GW_BAD_REQUEST')
    return reply.code(status).send({ error: { code, message: err.message } })
  })
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'VS_GW_NOT_FOUND', message: `no route ${req.method} ${req.url}` } }),
  )

  // External capabilities. Frames up to 16× the protocol limit reach the handler,
  // which answers oversize ones with an error; beyond that ws closes with 1009.
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES * 16 } })
  await app.register(fastifySSE, { heartbeatInterval: config.sseHeartbeatMs })
  // OpenAPI document of every route registered after this, served at /docs.
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Verisim gateway',
        version: '0.1.0',
        description:
          'REST control and reads of the simulation. Streaming is WebSocket /ws and SSE /sse (see docs/API.md).',
      },
      components: {
        securitySchemes: { admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
      },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  // Rate limiting and compression, for the routes that opt in (expensive reads).
  await registerExpensiveReads(app, config)

  // The app's own plugins
  await app.register(configPlugin, { config })
  await app.register(metricsPlugin)
  await app.register(redisPlugin)
  await app.register(streamsPlugin)
  await app.register(controlPlugin)

  // Routes
  await app.register(healthRoutes)
  await app.register(wsRoutes)
  await app.register(sseRoutes)
  await app.register(apiRoutes)
  await app.register(simulationRoutes)
  await app.register(import('./routes/admin/index.js'))
  await app.register(scenarioRoutes)
  await app.register(eventRoutes)
  await app.register(worldRoutes)

  return app
}

export type GatewayApp = Awaited<ReturnType<typeof buildApp>>
