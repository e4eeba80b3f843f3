/**
 * Scenario transitions as BullMQ delayed jobs (DESIGN.md "BullMQ for anything
 * scheduled in wall time"): the engine says when, in simulation time, the
 * running scenario moves on (active → settling → settled); this turns that into
 * a delayed job at the matching wall time for the current speed, moves it when
 * the speed changes or the clock pauses, and — when it fires at or after its
 * simulation time — sends a `scenario_transition` command through the control
 * stream, so the transition is applied between steps and recorded in the control
 * log like any command. Jobs live in Redis and survive a generator restart; a
 * transition of a run the engine no longer has is a no-op.
 */
import { Queue, Worker, type Job } from 'bullmq'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { sendControl, type WorldKeys } from '@verisim/bus'
import { KEEP_COMPLETED, KEEP_FAILED } from './retention.js'

export const TRANSITIONS_QUEUE = 'transitions'

export interface Transition {
  runId: string
  to: 'settling' | 'settled'
  /** Simulation time (epoch ms) it is due. */
  at: number
}

export interface TransitionClock {
  /** Simulation time the engine has reached. */
  simNow(): number
  speed(): number
  paused(): boolean
}

/** Wall delay until simulation time `at`; while paused, look again in a minute. */
export function wallDelay(at: number, clock: TransitionClock): number {
  if (clock.paused()) return 60_000
  return Math.max(0, Math.ceil((at - clock.simNow()) / clock.speed()))
}

export class TransitionScheduler {
  readonly #keys: WorldKeys
  readonly #log: Logger
  readonly #clock: TransitionClock
  readonly #queue: Queue
  readonly #worker: Worker
  readonly #redis: Redis
  #current: Transition | null = null
  /** Id of the delayed job standing for `#current` (changes when it is re-added). */
  #currentJobId: string | null = null
  #closed: Promise<void> | null = null

  constructor(opts: { redisUrl: string; keys: WorldKeys; log: Logger; clock: TransitionClock }) {
    this.#keys = opts.keys
    this.#log = opts.log
    this.#clock = opts.clock
    const connection = { url: opts.redisUrl, maxRetriesPerRequest: null } as const
    this.#redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 3 })
    this.#redis.on('error', () => undefined)
    this.#queue = new Queue(TRANSITIONS_QUEUE, { connection, prefix: opts.keys.bullPrefix })
    this.#worker = new Worker(TRANSITIONS_QUEUE, (job: Job<Transition>) => this.#fire(job), {
      connection,
      prefix: opts.keys.bullPrefix,
      autorun: false,
    })
    this.#worker.on('error', (err) =>
      this.#log.warn({ err: err.message }, 'transition worker error'),
    )
    this.#queue.on('error', (err) => this.#log.warn({ err: err.message }, 'transition queue error'))
  }

  start(): void {
    void this.#worker.run()
  }

  /** Replaces the pending transition (null: none). */
  async schedule(next: Transition | null): Promise<void> {
    const prev = this.#current
    this.#current = next
    if (prev && this.#currentJobId && (!next || prev.runId !== next.runId || prev.to !== next.to)) {
      await this.#queue.remove(this.#currentJobId).catch(() => undefined)
    }
    this.#currentJobId = null
    if (!next) return
    const delay = wallDelay(next.at, this.#clock)
    this.#currentJobId = jobId(next)
    await this.#queue.add('transition', next, {
      jobId: this.#currentJobId,
      delay,
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    })
    this.#log.info(
      { runId: next.runId, to: next.to, at: new Date(next.at).toISOString(), inMs: delay },
      'scenario transition scheduled',
    )
  }

  /** The speed changed or the clock paused/resumed: move the pending job. */
  async reschedule(): Promise<void> {
    if (!this.#current || !this.#currentJobId) return
    const job = await this.#queue.getJob(this.#currentJobId)
    if (job && (await job.isDelayed()))
      await job.changeDelay(wallDelay(this.#current.at, this.#clock))
  }

  async #fire(job: Job<Transition>): Promise<void> {
    const t = job.data
    if (this.#clock.simNow() < t.at) {
      // Fired early in simulation terms (paused, or slowed down): wait the rest.
      const again = `${jobId(t)}-${Date.now()}`
      if (this.#current?.runId === t.runId && this.#current.to === t.to) this.#currentJobId = again
      await this.#queue.add('transition', t, {
        jobId: again,
        delay: wallDelay(t.at, this.#clock),
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      })
      return
    }
    await sendControl(this.#redis, this.#keys, {
      requestId: `transition:${t.runId}:${t.to}`,
      action: 'scenario_transition',
      payload: { runId: t.runId, to: t.to },
    })
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#worker.close()
      await this.#queue.close()
      this.#redis.disconnect()
    })()
    return this.#closed
  }
}

/** BullMQ job ids may not contain ':'. */
function jobId(t: Transition): string {
  return `${t.runId}-${t.to}`.replace(/:/g, '_')
}
