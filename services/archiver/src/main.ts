/**
 * Archiver entry point: every event of the world's channel streams into
 * PostgreSQL (see ingest.ts), with health and metrics on ARCHIVER_PORT; stops
 * cleanly on SIGINT/SIGTERM (the batch in hand is written and acknowledged).
 */
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { ArchiveStore, migrateArchive, probe, redact } from '@verisim/archive'
import { createKeys } from '@verisim/bus'
import type { StreamInfo } from '@verisim/schema'
import { worldModule } from '@verisim/worlds'
import { ConfigError, loadConfig } from './config.js'
import { Archiver } from './ingest.js'

/** The channel the generator's control events (state, acks, history progress) go on. */
const CONTROL_CHANNEL = 'simulation_control'

async function main(): Promise<void> {
  const config = loadConfig()
  const log = pino({ level: config.logLevel, base: { svc: 'archiver' } })
  const module = worldModule(config.world)
  const keys = createKeys(config.prefix, config.world)

  // PostgreSQL may come up after us (compose, Railway): wait for it, saying so once.
  for (let said = false; ;) {
    try {
      await probe(config.databaseUrl, 3000)
      break
    } catch (err) {
      if (!said) {
        log.warn(
          { url: redact(config.databaseUrl), err: (err as Error).message },
          'PostgreSQL not reachable yet; waiting for it (set DATABASE_URL)',
        )
        said = true
      }
      await new Promise((r) => setTimeout(r, 2000))
    }
  }
  const applied = await migrateArchive(config.databaseUrl, {
    schema: config.schema,
    log: (m) => log.info(m),
  })
  log.info({ schema: config.schema, applied }, 'archive schema up to date')
  const store = new ArchiveStore({ url: config.databaseUrl, schema: config.schema })

  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null })
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'))
  // The channels are the world's (the catalog the generator writes at start) plus the control channel.
  let catalog: StreamInfo[] | null = null
  for (let said = false; catalog === null;) {
    const raw = await redis.get(keys.catalog)
    if (raw) catalog = JSON.parse(raw) as StreamInfo[]
    else {
      if (!said) log.info('waiting for the generator to publish the stream catalog')
      said = true
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
  const channels = [...new Set([...catalog.map((s) => s.channel), CONTROL_CHANNEL])]
  const archiver = new Archiver({
    redis,
    keys,
    world: config.world,
    channels,
    store,
    log,
    entityFields: module.entityFields,
    consumer: config.consumer,
    batchSize: config.batchSize,
    flushMs: config.flushMs,
    writers: config.writers,
  })
  await archiver.start()
  log.info(
    { channels, consumer: config.consumer, epoch: archiver.epoch },
    'archiving every channel into PostgreSQL',
  )

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  })
  app.get('/health/live', async () => ({ status: 'ok' }))
  app.get('/health/ready', async (_req, reply) => {
    if (archiver.stats.failing) {
      return reply.code(503).send({ status: 'unavailable', reason: 'archive writes are failing' })
    }
    return { status: 'ready', ...archiver.stats }
  })
  app.get('/metrics', async (_req, reply) => {
    const s = archiver.stats
    reply.type('text/plain; version=0.0.4')
    return [
      '# HELP verisim_archiver_events_total Events written to the archive.',
      '# TYPE verisim_archiver_events_total counter',
      `verisim_archiver_events_total ${s.archived}`,
      '# HELP verisim_archiver_duplicates_total Events read again and found archived already.',
      '# TYPE verisim_archiver_duplicates_total counter',
      `verisim_archiver_duplicates_total ${s.duplicates}`,
      '# HELP verisim_archiver_write_failures_total Batch writes PostgreSQL refused (each retried).',
      '# TYPE verisim_archiver_write_failures_total counter',
      `verisim_archiver_write_failures_total ${s.writeFailures}`,
      '# HELP verisim_archiver_lag_seconds Wall time from the newest archived event being published to its commit.',
      '# TYPE verisim_archiver_lag_seconds gauge',
      `verisim_archiver_lag_seconds ${s.lagMs === null ? 'NaN' : s.lagMs / 1000}`,
      '',
    ].join('\n')
  })
  await app.listen({ port: config.port, host: config.host })

  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping')
    await archiver.close().catch((err) => log.error({ err }, 'archiver close failed'))
    await app.close()
    await store.close()
    redis.disconnect()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`archiver: ${err.message}`)
  else console.error('archiver: failed to start', err)
  process.exit(1)
})
