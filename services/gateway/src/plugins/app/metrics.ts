/** Prometheus metrics of the gateway (`GET /metrics`). */
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'verisim_gateway_' })
  return {
    registry,
    clients: new Gauge({
      name: 'verisim_gateway_clients',
      help: 'Connected streaming clients',
      labelNames: ['transport'] as const,
      registers: [registry],
    }),
    eventsRead: new Counter({
      name: 'verisim_gateway_events_read_total',
      help: 'Events read from Redis Streams and released in id order',
      registers: [registry],
    }),
    framesSent: new Counter({
      name: 'verisim_gateway_frames_sent_total',
      help: 'Live batch frames (WS) or chunks (SSE) written to clients',
      registers: [registry],
    }),
    bytesSent: new Counter({
      name: 'verisim_gateway_bytes_sent_total',
      help: 'Bytes of live batches written to clients',
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: 'verisim_gateway_flush_seconds',
      help: 'Time to filter, serialize and write one batch window to all clients',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    catchups: new Counter({
      name: 'verisim_gateway_catchups_total',
      help: 'Resume requests, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    bufferedBytes: new Gauge({
      name: 'verisim_gateway_client_buffered_bytes',
      help: 'Bytes accepted for streaming clients but not yet handed to the kernel, over all clients (stat="sum") and the largest one (stat="max"); each client is bounded by VERISIM_MAX_CLIENT_BUFFER',
      labelNames: ['stat'] as const,
      registers: [registry],
    }),
    slowClosed: new Counter({
      name: 'verisim_gateway_slow_clients_closed_total',
      help: 'Clients closed because their send queue exceeded the bound',
      registers: [registry],
    }),
    streamsLost: new Counter({
      name: 'verisim_gateway_streams_lost_total',
      help: 'Times the stored streams were found replaced (epoch changed) and clients were closed to resume',
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'verisim_gateway_rate_limited_total',
      help: 'Expensive reads refused with 429 (VS_GW_RATE_LIMITED), by route',
      labelNames: ['route'] as const,
      registers: [registry],
    }),
    historyAnswers: new Counter({
      name: 'verisim_gateway_history_answers_total',
      help: 'History answers, by source: cache, joined (a build in flight), built, not_modified (304)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    historyBuildSeconds: new Histogram({
      name: 'verisim_gateway_history_build_seconds',
      help: 'Wall time to build and compress one history answer (the event loop is given back throughout)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    historyCacheBytes: new Gauge({
      name: 'verisim_gateway_history_cache_bytes',
      help: 'Compressed history answers kept in memory (bounded by VERISIM_HISTORY_CACHE_MB)',
      registers: [registry],
    }),
    protocolErrors: new Counter({
      name: 'verisim_gateway_protocol_errors_total',
      help: 'Error messages sent to clients, by code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
  }
}
export type GatewayMetrics = ReturnType<typeof createMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
}

export default fp(
  async (app) => {
    app.decorate('metrics', createMetrics())
  },
  { name: 'metrics' },
)
