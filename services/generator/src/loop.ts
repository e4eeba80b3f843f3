/**
 * The generator loop: every tick, advance the engine to the clock's simulation
 * time and write the events, in id order, through the bus. One step at a time
 * (the next tick waits for the write), so Redis being slow slows the simulation
 * down instead of piling up work in memory.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import {
  createIdSequence,
  createStreamWriter,
  ensureEpoch,
  lastStoredId,
  maxId,
  readEpoch,
  type Epoch,
  type RawEvent,
  type WorldKeys,
} from '@verisim/bus'
import type { Engine } from '@verisim/sim'
import { SimClock } from './clock.js'
import { createEnvelopeEncoder } from './envelope.js'
import type { GeneratorMetrics } from './metrics.js'

export interface LoopOptions {
  redis: Redis
  keys: WorldKeys
  engine: Engine
  clock: SimClock
  world: string
  seed: number
  retention: number
  tickMs: number
  log: Logger
  metrics: GeneratorMetrics
  /** Wall clock; injectable for tests. */
  now?: () => number
}

/** Largest simulation step per tick, in wall ticks' worth of time: beyond it the clock slips. */
const MAX_STEP_TICKS = 20

export class GeneratorLoop {
  readonly #o: LoopOptions
  readonly #now: () => number
  #timer: NodeJS.Timeout | null = null
  #closing = false
  #started = false
  #stepping: Promise<void> | null = null
  #epoch: Epoch | null = null
  #ids = createIdSequence()
  #encode: ReturnType<typeof createEnvelopeEncoder> | null = null
  #written = 0
  #lastWriteOk = false
  #lastStateWrite = 0
  readonly #writer: ReturnType<typeof createStreamWriter>

  constructor(opts: LoopOptions) {
    this.#o = opts
    this.#now = opts.now ?? Date.now
    this.#writer = createStreamWriter({ redis: opts.redis, keys: opts.keys, maxLen: opts.retention })
  }

  get eventsWritten(): number {
    return this.#written
  }

  get epoch(): Epoch | null {
    return this.#epoch
  }

  /** Ready when the last write to Redis went through. */
  get healthy(): boolean {
    return this.#started && this.#lastWriteOk
  }

  /** Continues after the newest id stored, publishes the catalog and starts ticking. */
  async start(): Promise<void> {
    if (this.#started) throw new Error('GeneratorLoop already started')
    this.#started = true
    const { redis, keys, engine } = this.#o
    const channels = [...new Set(engine.catalog().map((s) => s.channel))]
    const stored = await lastStoredId(redis, keys, channels)
    const recorded = await redis.get(keys.lastId)
    this.#ids = createIdSequence(maxId(stored, recorded))
    this.#encode = createEnvelopeEncoder(this.#o.world, this.#ids)
    this.#epoch = await ensureEpoch(redis, keys, this.#ids.last() ?? '0-0')
    await redis.set(keys.catalog, JSON.stringify(engine.catalog()))
    this.#lastWriteOk = true
    this.#o.log.info(
      { epoch: this.#epoch.epoch, after: this.#ids.last(), channels },
      'generator loop started',
    )
    this.#schedule()
  }

  #schedule(): void {
    if (this.#closing) return
    this.#timer = setTimeout(() => {
      this.#stepping = this.#step().finally(() => {
        this.#stepping = null
        this.#schedule()
      })
    }, this.#o.tickMs)
  }

  async #step(): Promise<void> {
    const { engine, clock, metrics, log } = this.#o
    const wall = this.#now()
    const endTimer = metrics.tickSeconds.startTimer()
    try {
      await this.#checkEpoch()
      let target = clock.now(wall)
      const maxStep = clock.speed * this.#o.tickMs * MAX_STEP_TICKS
      if (target - engine.now > maxStep) {
        target = engine.now + maxStep
        clock.slip(target, wall)
        metrics.slips.inc()
        log.warn(
          { speed: clock.speed },
          'generator cannot keep up with the requested speed; simulation time slowed down',
        )
      }
      if (target > engine.now) {
        const events = engine.advance(target)
        if (events.length > 0) await this.#write(events.map((e) => this.#encode!(e, wall)))
      }
      metrics.simTime.set(engine.now / 1000)
      metrics.speed.set(clock.paused ? 0 : clock.speed)
      if (wall - this.#lastStateWrite >= 1000) await this.#writeState(wall)
      this.#lastWriteOk = true
    } catch (err) {
      this.#lastWriteOk = false
      metrics.writeErrors.inc()
      log.error({ err }, 'simulation step failed; retrying next tick')
    } finally {
      endTimer()
    }
  }

  async #write(raw: RawEvent[]): Promise<void> {
    // Events that failed to write are lost to Redis but never reordered: ids are
    // already spent, and the next batch carries higher ones.
    await this.#writer.write(raw)
    this.#written += raw.length
    const perChannel = new Map<string, number>()
    for (const e of raw) perChannel.set(e.channel, (perChannel.get(e.channel) ?? 0) + 1)
    for (const [channel, n] of perChannel) this.#o.metrics.eventsWritten.inc({ channel }, n)
  }

  /** Redis restarted empty? Then the epoch is gone: make a new one. */
  async #checkEpoch(): Promise<void> {
    const current = await readEpoch(this.#o.redis, this.#o.keys)
    if (current && current.epoch === this.#epoch?.epoch) return
    this.#epoch = await ensureEpoch(this.#o.redis, this.#o.keys, this.#ids.last() ?? '0-0')
    await this.#o.redis.set(this.#o.keys.catalog, JSON.stringify(this.#o.engine.catalog()))
    this.#o.log.warn({ epoch: this.#epoch.epoch }, 'stream epoch changed (Redis lost its data)')
  }

  async #writeState(wall: number): Promise<void> {
    const { redis, keys, clock, engine } = this.#o
    this.#lastStateWrite = wall
    const state = {
      world: this.#o.world,
      seed: this.#o.seed,
      speed: clock.speed,
      running: !clock.paused,
      paused: clock.paused,
      currentSimulationTime: new Date(engine.now).toISOString(),
      epoch: this.#epoch?.epoch ?? null,
      lastId: this.#ids.last(),
      eventsGenerated: this.#written,
      updatedAt: new Date(wall).toISOString(),
    }
    await redis.set(keys.state, JSON.stringify(state))
  }

  /** Stops ticking and waits for the step in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closing = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.#stepping
  }
}
