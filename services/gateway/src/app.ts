/**
 * Builds the gateway: external plugins (security headers, WebSocket, SSE), then
 * the app's own (config, metrics, Redis, streams), then routes; strict body
 * validation with a nesting limit, and one error handler that answers every
 * error as a documented `VS_*` code and keeps 5xx internals out of responses.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import websocket from '@fastify/websocket'
import helmet from '@fastify/helmet'
import AjvCompiler from '@fastify/ajv-compiler'
import { fastifySSE } from '@fastify/sse'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Logger } from 'pino'
import { jsonTooDeep, MAX_FRAME_BYTES, MAX_JSON_DEPTH } from '@verisim/schema'
import { TooDeepError, toErrorReply } from './errors.js'
import { CloseCode } from './fanout.js'
import type { GatewayConfig } from './config.js'
import { registerExpensiveReads } from './expensive.js'
import configPlugin from './plugins/app/config.js'
import metricsPlugin from './plugins/app/metrics.js'
import redisPlugin from './plugins/app/redis.js'
import streamsPlugin from './plugins/app/streams.js'
import controlPlugin from './plugins/app/control.js'
import archivePlugin from './plugins/app/archive.js'
import healthRoutes from './routes/health/index.js'
import wsRoutes from './routes/ws/index.js'
import sseRoutes from './routes/sse/index.js'
import apiRoutes from './routes/api/index.js'
import archiveRoutes from './routes/api/archive.js'
import replayRoutes from './routes/api/replay.js'
import simulationRoutes from './routes/api/simulation.js'
import scenarioRoutes from './routes/api/scenarios.js'
import eventRoutes from './routes/api/events.js'
import worldRoutes from './routes/api/world.js'
import snapshotRoutes from './routes/api/snapshots.js'

/**
 * Validators: bodies are taken as sent (no type coercion: `"5"` is not a
 * number, `true` is not 1); query strings, params and headers arrive as text,
 * so numbers there are converted where a route declares them.
 */
const ajvOptions = { removeAdditional: false, allErrors: false, coerceTypes: false } as const
const buildValidators = AjvCompiler()
const compilersFactory = {
  buildValidator: ((externalSchemas: unknown, options: { customOptions?: object } = {}) => {
    const strict = buildValidators(
      externalSchemas as never,
      {
        ...options,
        customOptions: { ...options.customOptions, ...ajvOptions },
      } as never,
    )
    const textual = buildValidators(
      externalSchemas as never,
      {
        ...options,
        customOptions: { ...options.customOptions, ...ajvOptions, coerceTypes: 'array' },
      } as never,
    )
    return (route: { httpPart?: string }) =>
      (route.httpPart === 'body' ? strict : textual)(route as never)
  }) as ReturnType<typeof AjvCompiler>,
}

/**
 * Security headers on every response (the admin page and /docs included). The
 * CSP allows what the admin page needs and nothing more: its own scripts, its
 * inline <style> block, fetch/WebSocket/EventSource to this origin.
 */
const helmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'self'"],
      formAction: ["'self'"],
    },
  },
  // The gateway is often served over plain http (localhost, a private network):
  // no forced upgrade of its own requests.
  strictTransportSecurity: false,
}

export async function buildApp(config: GatewayConfig, log: Logger) {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: ajvOptions },
    schemaController: { compilersFactory },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Set before any plugin so every encapsulated context inherits it: every
  // error, Fastify's own included, reaches the client as a documented VS_* code.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const out = toErrorReply(err)
    if (out.internal) req.log.error({ err }, 'request failed')
    return reply.code(out.status).send({ error: { code: out.code, message: out.message } })
  })

  // JSON bodies nested deeper than MAX_JSON_DEPTH are refused before they are
  // parsed (nothing recurses into them later: validators, JSON.stringify).
  // Bodies are JSON only: anything else is a 415 (Fastify would take text/plain).
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (typeof body === 'string' && jsonTooDeep(body, MAX_JSON_DEPTH))
      return done(
        new TooDeepError(`the body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`),
        undefined,
      )
    return parseJson(req, body as string, done)
  })

  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'VS_GW_NOT_FOUND', message: `no route ${req.method} ${req.url}` } }),
  )

  // External capabilities. Frames up to 16× the protocol limit reach the handler,
  // which answers oversize ones with an error; beyond that ws closes with 1009.
  await app.register(helmet, helmetOptions)
  await app.register(websocket, {
    options: {
      maxPayload: MAX_FRAME_BYTES * 16,
      // A client closed as slow may be paused with bytes queued before the close
      // frame: keep its connection long enough for it to read them and see 4008.
      closeTimeout: config.closeGraceMs,
    } as { maxPayload: number },
    // Graceful stop: 1001 (going away) to every client, then those that do not
    // answer the close in a few seconds are cut.
    preClose(done) {
      const wss = app.websocketServer
      for (const c of wss.clients) c.close(CloseCode.goingAway, 'server shutting down')
      setTimeout(() => {
        for (const c of wss.clients) c.terminate()
      }, 2000).unref()
      wss.close()
      done()
    },
  })
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
  await app.register(archivePlugin)

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
  await app.register(snapshotRoutes)
  await app.register(archiveRoutes)
  await app.register(replayRoutes)

  return app
}

export type GatewayApp = Awaited<ReturnType<typeof buildApp>>
