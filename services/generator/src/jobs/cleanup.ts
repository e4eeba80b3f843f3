/**
 * The cleanup job (DESIGN.md "Consumer group per gateway instance"): a BullMQ
 * job scheduler with a fixed id runs it every `VERISIM_CLEANUP_EVERY_MS`.
 * Each run
 *
 * 1. destroys the consumer groups of dead gateway instances (`gw:<id>` whose
 *    heartbeat key has expired and whose consumers are idle), claiming and
 *    acknowledging their pending entries before removing consumers and groups;
 * 2. trims every channel stream to the retention window: `MAXLEN ~` by count
 *    (the writer's own bound, for streams it has not written to lately) and,
 *    when `VERISIM_RETENTION_MS` is set, `MINID ~` by time (ids carry their
 *    write time). The gateway's `retentionFloor` reads what trimming removed,
 *    so a resume point that lost events gets `catchup` `too_old`.
 *
 * Client resume records: Verisim keeps none (a client resumes from the id it
 * holds), so there are none to expire.
 *
 * Runs are logged and counted in `/metrics`. Several generators of one world
 * (leader and standby) may all run this: the scheduler is upserted under one
 * id and BullMQ hands each run to one worker; a run that races another finds
 * nothing left to do. When Redis loses its data the scheduler goes with it;
 * a watchdog puts it back.
 */
import { Queue, Worker, type Job } from 'bullmq'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import {
  destroyGroup,
  findZombieGroups,
  listChannelKeys,
  trimStreams,
  type WorldKeys,
} from '@verisim/bus'
import type { GeneratorMetrics } from '../metrics.js'
import { KEEP_COMPLETED, KEEP_FAILED } from './retention.js'

export const CLEANUP_QUEUE = 'cleanup'
/** The fixed id of the job scheduler: upserting it again updates, never duplicates. */
export const CLEANUP_SCHEDULER_ID = 'verisim-cleanup'

export interface CleanupSettings {
  keys: WorldKeys
  /** Approximate entries kept per channel stream (`MAXLEN ~`). */
  maxLen: number
  /** Time window kept per channel stream (`MINID ~`); 0: by count only. */
  retentionMs: number
  /** Idle time a dead instance's consumers must have (default: the bus's `ZOMBIE_MIN_IDLE_MS`). */
  minIdleMs?: number
  /** Wall clock, injectable for tests. */
  now?: () => number
}

export interface CleanupReport {
  /** Dead instances whose groups were removed. */
  instances: string[]
  /** Groups destroyed (one per stream of each dead instance). */
  groups: number
  /** Pending entries claimed and acknowledged first. */
  acked: number
  /** Entries trimmed from channel streams. */
  trimmed: number
  streams: number
}

/** One cleanup pass; the job's processor, callable on its own in tests. */
export async function runCleanup(redis: Redis, s: CleanupSettings): Promise<CleanupReport> {
  const streamKeys = await listChannelKeys(redis, s.keys)
  const zombies = await findZombieGroups(redis, s.keys, {
    streamKeys,
    ...(s.minIdleMs === undefined ? {} : { minIdleMs: s.minIdleMs }),
  })
  const report: CleanupReport = {
    instances: [],
    groups: 0,
    acked: 0,
    trimmed: 0,
    streams: streamKeys.length,
  }
  for (const z of zombies) {
    // The instance may have come back (a restart with a fixed id) since it was judged dead.
    if ((await redis.exists(s.keys.gatewayHeartbeat(z.instanceId))) > 0) continue
    for (const key of z.keys) {
      const r = await destroyGroup(redis, key, z.group)
      report.acked += r.acked
      if (r.destroyed) report.groups++
    }
    report.instances.push(z.instanceId)
  }
  const now = (s.now ?? Date.now)()
  report.trimmed = await trimStreams(redis, streamKeys, {
    maxLen: s.maxLen,
    ...(s.retentionMs > 0 ? { minId: `${Math.max(0, now - s.retentionMs)}-0` } : {}),
  })
  return report
}

export interface CleanupJobOptions extends CleanupSettings {
  redisUrl: string
  everyMs: number
  log: Logger
  metrics: GeneratorMetrics
}

/**
 * The scheduler, its worker and the watchdog that re-creates the scheduler when
 * Redis lost it. `start()` once; `close()` is idempotent and waits for a run in
 * progress.
 *
 * @example
 * const cleanup = new CleanupJob({ redisUrl, keys, everyMs: 30_000, maxLen: 100_000, retentionMs: 0, log, metrics })
 * await cleanup.start()
 * // …
 * await cleanup.close()
 */
export class CleanupJob {
  readonly #o: CleanupJobOptions
  #commands: Redis | null = null
  #queueRedis: Redis | null = null
  #workerRedis: Redis | null = null
  #queue: Queue | null = null
  #worker: Worker | null = null
  #watchdog: NodeJS.Timeout | null = null
  #started = false
  #closing: Promise<void> | null = null
  #lastReport: CleanupReport | null = null

  constructor(opts: CleanupJobOptions) {
    this.#o = opts
  }

  /** What the last successful run did (null before the first). */
  get lastReport(): CleanupReport | null {
    return this.#lastReport
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('CleanupJob already started')
    this.#started = true
    const { redisUrl, keys, log } = this.#o
    // Commands of a run fail fast while Redis is away (the run is then counted
    // as failed and the next one retries); BullMQ's own connections wait.
    this.#commands = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
    this.#queueRedis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
    this.#workerRedis = new Redis(redisUrl, { maxRetriesPerRequest: null })
    for (const r of [this.#commands, this.#queueRedis, this.#workerRedis])
      r.on('error', () => undefined)
    const prefix = keys.bullPrefix
    this.#queue = new Queue(CLEANUP_QUEUE, { connection: this.#queueRedis, prefix })
    this.#queue.on('error', (err) => log.warn({ err: err.message }, 'cleanup queue error'))
    this.#worker = new Worker(CLEANUP_QUEUE, (job) => this.#process(job), {
      connection: this.#workerRedis,
      prefix,
      concurrency: 1,
    })
    this.#worker.on('error', (err) => log.warn({ err: err.message }, 'cleanup worker error'))
    await this.#schedule()
    this.#watchdog = setInterval(
      () => void this.#ensureScheduled(),
      Math.max(this.#o.everyMs, 1000),
    )
    this.#watchdog.unref()
    log.info(
      { everyMs: this.#o.everyMs, retentionMs: this.#o.retentionMs, maxLen: this.#o.maxLen },
      'cleanup job scheduled',
    )
  }

  async #schedule(): Promise<void> {
    await this.#queue!.upsertJobScheduler(
      CLEANUP_SCHEDULER_ID,
      { every: this.#o.everyMs },
      {
        name: 'cleanup',
        data: {},
        opts: { removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED, attempts: 1 },
      },
    )
  }

  /** Puts the scheduler back when it is gone (Redis restarted empty). */
  async #ensureScheduled(): Promise<void> {
    if (this.#closing || !this.#queue) return
    try {
      if (await this.#queue.getJobScheduler(CLEANUP_SCHEDULER_ID)) return
      await this.#schedule()
      this.#o.log.warn('cleanup job scheduler was missing (Redis lost its data); scheduled again')
    } catch {
      // Redis away: the next tick tries again.
    }
  }

  async #process(job: Job): Promise<CleanupReport> {
    const { metrics, log } = this.#o
    const end = metrics.cleanupSeconds.startTimer()
    try {
      const report = await runCleanup(this.#commands!, this.#o)
      metrics.cleanupRuns.inc({ outcome: 'ok' })
      metrics.cleanupZombies.inc(report.groups)
      metrics.cleanupAcked.inc(report.acked)
      metrics.cleanupTrimmed.inc(report.trimmed)
      metrics.cleanupLastRun.set(Date.now() / 1000)
      this.#lastReport = report
      const seconds = end()
      const fields = { job: job.id, ...report, ms: Math.round(seconds * 1000) }
      if (report.instances.length > 0)
        log.warn(fields, 'cleanup removed consumer groups of dead gateway instances')
      else log.info(fields, 'cleanup run')
      return report
    } catch (err) {
      end()
      metrics.cleanupRuns.inc({ outcome: 'error' })
      log.warn(
        { job: job.id, err: (err as Error).message },
        'cleanup run failed; the next run retries',
      )
      throw err
    }
  }

  /** Stops the watchdog and the worker (after a run in progress), then the connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#watchdog) clearInterval(this.#watchdog)
      await this.#worker?.close().catch(() => undefined)
      await this.#queue?.close().catch(() => undefined)
      for (const r of [this.#commands, this.#queueRedis, this.#workerRedis]) r?.disconnect()
    })()
    return this.#closing
  }
}
