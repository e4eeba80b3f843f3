/**
 * Generator entry point: load settings and the world, connect to Redis, run the
 * loop and the health server; stop cleanly on SIGINT/SIGTERM.
 */
import path from 'node:path'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { createKeys } from '@verisim/bus'
import { loadWorld } from '@verisim/sim'
import { worldModule } from '@verisim/worlds'
import { SimClock } from './clock.js'
import { loadConfig } from './config.js'
import { ControlConsumer } from './control.js'
import { GeneratorLoop } from './loop.js'
import { CleanupJob } from './jobs/cleanup.js'
import { TransitionScheduler } from './jobs/transitions.js'
import { createWarmEngine, findPreviousRun, restoreRun, type RestoredRun } from './restore.js'
import { HistoryService } from './history/service.js'
import { createMetrics } from './metrics.js'
import { buildServer } from './server.js'
import { TimeMachine } from './time-machine.js'

const HOUR_MS = 3_600_000

async function main(): Promise<void> {
  const config = loadConfig()
  const log = pino({ level: config.logLevel, base: { svc: 'generator' } })
  const module = worldModule(config.world)
  const world = loadWorld(path.join(config.configDir, config.world), module)
  const warmupHours = config.warmupHours ?? module.warmupHours
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 })
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'))
  await redis.connect()
  const keys = createKeys(config.prefix, config.world)

  // Continue the previous run of this world and seed unless a start time was given.
  let previous = config.startGiven
    ? null
    : await findPreviousRun(redis, keys, {
        world: config.world,
        seed: config.seed,
        warmupHours,
      })
  let restored: Extract<RestoredRun, { ok: true }> | null = null
  if (previous) {
    const t0 = performance.now()
    const r = await restoreRun(redis, keys, { world, seed: config.seed, warmupHours, previous })
    if (r.ok) {
      restored = r
      if (r.gap) {
        log.error(
          { from: r.from },
          'the control log was trimmed past the position restored from: commands are missing and the continuation may differ from the run',
        )
      }
      log.info(
        {
          startedAt: new Date(previous.startedAt).toISOString(),
          resumeAt: new Date(r.resumeAt).toISOString(),
          from: r.from,
          ...(r.snapshotAt === null ? {} : { snapshotAt: new Date(r.snapshotAt).toISOString() }),
          commands: r.commands,
          ms: Math.round(performance.now() - t0),
        },
        'continuing the previous run (set VERISIM_START to begin a new one)',
      )
    } else {
      log.warn(
        { startedAt: new Date(previous.startedAt).toISOString(), reason: r.reason },
        `not continuing the previous run: ${r.reason}; starting a new one`,
      )
      previous = null
    }
  }
  const start = previous?.startedAt ?? config.start
  const engine =
    restored?.engine ??
    (() => {
      // Run the world into its steady state; the events before the start are not published.
      const t0 = performance.now()
      const warm = createWarmEngine({ world, seed: config.seed, start, warmupHours })
      if (warmupHours > 0) {
        log.info(
          { hours: warmupHours, events: warm.events, ms: Math.round(performance.now() - t0) },
          'world warmed up',
        )
      }
      return warm.engine
    })()
  // The 30-day baseline before the run start, and the live series after it.
  let announce: (data: Record<string, unknown>) => void = () => undefined
  const history = new HistoryService({
    redis,
    redisUrl: config.redisUrl,
    keys,
    world,
    worldDir: path.join(config.configDir, config.world),
    seed: config.seed,
    startedAt: start,
    origin: start - warmupHours * HOUR_MS,
    log,
    announce: (data) => announce(data),
    keepVersions: config.historyKeepVersions,
    maxSpanDays: config.historyDays,
  })
  await history.init(previous !== null)
  const timeMachine = new TimeMachine({
    redis,
    keys,
    world,
    engine,
    seed: config.seed,
    startedAt: start,
    log,
    everyMs: config.timelineEveryHours * HOUR_MS,
    maxSaved: config.snapshotsMax,
  })
  await timeMachine.init(previous !== null)
  const metrics = createMetrics()
  const clock = new SimClock({
    start: restored?.resumeAt ?? config.start,
    speed: previous?.speed ?? config.speed,
    wallNow: Date.now(),
  })
  if (previous?.paused) clock.pause(Date.now())
  const transitions = new TransitionScheduler({
    redisUrl: config.redisUrl,
    keys,
    log,
    clock: { simNow: () => engine.now, speed: () => clock.speed, paused: () => clock.paused },
  })
  const loop = new GeneratorLoop({
    history,
    timeMachine,
    startedAt: start,
    warmupHours,
    transitions,
    redis,
    keys,
    engine,
    clock,
    world: config.world,
    seed: config.seed,
    retention: config.retention,
    tickMs: config.tickMs,
    log,
    metrics,
    worldHash: world.hash,
    snapshotEveryMs: config.snapshotEveryMs,
    ...(restored ? { controlLogId: restored.controlLogId } : {}),
  })
  announce = (data) => loop.announceHistory(data)
  const server = buildServer({ redis, loop, metrics, log })
  const controlRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: null })
  controlRedis.on('error', () => undefined) // the consumer reports failed reads itself
  const control = new ControlConsumer({
    redis: controlRedis,
    keys,
    log,
    onCommand: (entry) => loop.enqueue(entry),
  })
  const cleanup = new CleanupJob({
    redisUrl: config.redisUrl,
    keys,
    everyMs: config.cleanupEveryMs,
    maxLen: config.retention,
    retentionMs: config.retentionMs,
    log,
    metrics,
  })

  let stopping: Promise<void> | null = null
  const stop = (signal: string) => {
    stopping ??= (async () => {
      log.info({ signal }, 'stopping generator')
      await control.close()
      await cleanup.close()
      await transitions.close()
      await loop.close()
      await history.close()
      await server.close()
      redis.disconnect()
      log.info('generator stopped')
    })()
    return stopping
  }
  process.once('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)))
  process.once('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)))

  await loop.start()
  // A continued run's pending transition: re-registered (its BullMQ job, if still there, is kept).
  const pending = engine.scenarioStatus()
  if (previous && pending?.nextTransition) {
    await transitions.schedule({ runId: pending.runId, ...pending.nextTransition })
  }
  await control.start()
  await cleanup.start()
  transitions.start()
  history.start()
  await history.publishEvents(engine.externalEvents())
  await server.listen({ port: config.port, host: config.host })
  log.info(
    {
      world: config.world,
      seed: config.seed,
      speed: config.speed,
      start: new Date(config.start).toISOString(),
      streams: engine.catalog().length,
      port: config.port,
    },
    'generator running',
  )
}

main().catch((err: unknown) => {
  const e = err as Error & { code?: string }
  // Configuration and world errors are the user's to fix: print them plainly.
  process.stderr.write(`generator failed to start: ${e.code ? `[${e.code}] ` : ''}${e.message}\n`)
  process.exit(1)
})
