/**
 * The generator loop: every tick, advance the engine to the clock's simulation
 * time and write the events, in id order, through the bus. One step at a time
 * (the next tick waits for the write), so Redis being slow slows the simulation
 * down instead of piling up work in memory.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import {
  commitControl,
  CONTROL_LOG_MAX_LEN,
  lastControlLogId,
  readControlResult,
  writeSnapshot,
  type ControlEntry,
  createEnvelopeEncoder,
  createIdSequence,
  createStreamWriter,
  ensureEpoch,
  lastStoredId,
  maxId,
  readEpoch,
  replaceEpoch,
  writeWorldDescription,
  type Epoch,
  type RawEvent,
  type WorldKeys,
} from '@verisim/bus'
import { BUCKET_MS, DAY, type Engine, type ExternalEvent, type SimEvent } from '@verisim/sim'
import {
  conflictResult,
  ControlStream,
  parseIsoTime,
  publicAck,
  READ_ONLY_ACTIONS,
  SpecialChannel,
  TimeTravelAction,
  type ControlAck,
  type ControlCommand,
  type ControlResult,
  type ExternalEventTemplateInfo,
  type WorldDescription,
} from '@verisim/schema'
import {
  applyCommand,
  COMMAND_MAX_AGE_MS,
  ControlError,
  ControlErrorCode,
  errorResult,
  validatePayload,
} from './control.js'
import type { TimeMachine } from './time-machine.js'
import type { TransitionScheduler } from './jobs/transitions.js'
import type { HistoryService } from './history/service.js'
import { SimClock } from './clock.js'
import type { GeneratorMetrics } from './metrics.js'
import { SpeedMeter } from './speed.js'

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
  /** Simulation start of the run (default: where the engine stands now). */
  startedAt?: number
  /** Recorded in the state so a restart knows whether it can continue this run. */
  warmupHours?: number
  /** Schedules scenario transitions (BullMQ); absent in tests that don't need it. */
  transitions?: TransitionScheduler
  /** The run's history (baseline, regenerations, live buckets); absent in tests that don't need it. */
  history?: HistoryService
  /** The world's config hash (`World.hash`), stored with every snapshot; a restart compares it. */
  worldHash?: string
  /** Wall milliseconds between engine snapshots (also taken at start and on close); default 60 000. */
  snapshotEveryMs?: number
  /** Control log length kept (`MAXLEN ~`); a snapshot is also taken every half of it in commands. */
  controlLogMaxLen?: number
  /** Newest control-log entry the engine has applied (a restored run); default: the newest in the log. */
  controlLogId?: string
  /** Snapshots, restore and time travel; absent in tests that don't need them. */
  timeMachine?: TimeMachine
}

/** A command applied to the engine, waiting to be committed (result + control-log entry). */
interface Uncommitted {
  entry: ControlEntry
  result: ControlResult
  /** Simulation time it took effect. */
  simTime: number
}

/** Actions after which the scenario's next transition may have changed. */
const SCENARIO_ACTIONS = new Set([
  'set_scenario',
  'stop_scenario',
  'scenario_transition',
  'reset',
  'restore_snapshot',
  'travel',
])
/** Snapshots and time travel: the time machine's. */
const TIME_ACTIONS = new Set<string>(TimeTravelAction)
/** Actions after which wall delays of scheduled transitions change. */
const CLOCK_ACTIONS = new Set(['set_speed', 'pause', 'resume', 'start'])

/** Largest simulation step per tick, in wall ticks' worth of time: beyond it the clock slips. */
const MAX_STEP_TICKS = 20

/** How far after the current simulation time an external event may be injected. */
export const EXTERNAL_EVENT_MAX_AHEAD_MS = 366 * 24 * 60 * 60 * 1000

/** Whether a stored result belongs to another action or payload than `cmd` (a reused requestId). */
function reused(stored: ControlResult, cmd: ControlCommand): boolean {
  if (stored.action !== cmd.action) return true
  return (
    stored.fingerprint !== undefined &&
    cmd.fingerprint !== undefined &&
    stored.fingerprint !== cmd.fingerprint
  )
}

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
  #commands: ControlEntry[] = []
  #uncommitted: Uncommitted[] = []
  /** Control-channel announcements made between steps (history job progress), written with the next step. */
  #announcements: SimEvent[] = []
  #recentAnomalies: Record<string, unknown>[] = []
  /** Newest control-log entry applied to the engine: the position a snapshot covers. */
  #logId = '0-0'
  #loggedSinceSnapshot = 0
  #lastSnapshot = 0
  #closed: Promise<void> | null = null
  readonly #startedAt: number
  readonly #writer: ReturnType<typeof createStreamWriter>
  /** The speed actually kept (the state's `effectiveSpeed`). */
  readonly #speed = new SpeedMeter()

  constructor(opts: LoopOptions) {
    this.#o = opts
    this.#now = opts.now ?? Date.now
    this.#startedAt = opts.startedAt ?? opts.engine.now
    this.#writer = createStreamWriter({
      redis: opts.redis,
      keys: opts.keys,
      maxLen: opts.retention,
    })
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

  /** Queues a `simulation.history` message for `simulation_control` (written in id order with the next step). */
  announceHistory(data: Record<string, unknown>): void {
    this.#announcements.push(this.#controlEvent(ControlStream.history, data))
  }

  /** Queues a control command; it is applied at the start of the next step. */
  enqueue(entry: ControlEntry): void {
    this.#commands.push(entry)
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
    await this.#publishCatalogs()
    // A new run begins after whatever an earlier run left in the control log.
    this.#logId = this.#o.controlLogId ?? (await lastControlLogId(redis, keys))
    if (this.#o.controlLogId === undefined) await this.#snapshot(this.#now())
    // A restored run: the stored snapshot plus the control log after it still give
    // this engine, so the next one can wait for the end of the first step, once its
    // events are out (encoding the state takes ~0.5 s; a restart publishes first).
    else this.#lastSnapshot = -Infinity
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
      if (this.#commands.length > 0 || this.#uncommitted.length > 0) await this.#applyCommands(wall)
      let target = clock.now(wall)
      const maxStep = clock.speed * this.#o.tickMs * MAX_STEP_TICKS
      if (target - engine.now > maxStep) {
        target = engine.now + maxStep
        // Simulation time lags (never jumps): the kept speed is measured below.
        clock.slip(target, wall)
        metrics.slips.inc()
      }
      if (this.#announcements.length > 0) {
        const out = this.#announcements.splice(0)
        await this.#write(out.map((e) => this.#encode!(e, wall)))
        await this.#writeState(wall)
      }
      if (target > engine.now) {
        const events = engine.advance(target)
        if (events.length > 0) {
          const raw = events.map((e) => this.#encode!(e, wall))
          this.#noteAnomalies(events, raw)
          await this.#write(raw)
          if (this.#o.history) {
            this.#o.history.record(events)
            await this.#o.history.flush()
          }
        }
      }
      metrics.simTime.set(engine.now / 1000)
      metrics.speed.set(clock.paused ? 0 : clock.speed)
      this.#measureSpeed(wall)
      this.#o.timeMachine?.checkpoint()
      if (wall - this.#lastStateWrite >= 1000) await this.#writeState(wall)
      if (this.#snapshotDue(wall)) await this.#snapshot(wall)
      this.#lastWriteOk = true
    } catch (err) {
      this.#lastWriteOk = false
      metrics.writeErrors.inc()
      log.error({ err }, 'simulation step failed; retrying next tick')
    } finally {
      endTimer()
    }
  }

  /** Samples the kept speed after a step; logs it once per change, not per tick. */
  #measureSpeed(wall: number): void {
    const { clock, engine, metrics, log } = this.#o
    this.#speed.sample(wall, engine.now, clock.speed, clock.paused)
    metrics.requestedSpeed.set(clock.speed)
    metrics.effectiveSpeed.set(this.#speed.effective)
    const change = this.#speed.change()
    if (change === null) return
    const fields = {
      speed: change.requested,
      effectiveSpeed: change.effective,
      ratio: Math.round((change.effective / change.requested) * 100) / 100,
    }
    if (change.behind) {
      log.warn(fields, 'generator cannot keep the requested speed; simulation time runs slower')
    } else {
      log.info(fields, 'generator keeps the requested speed again')
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

  /**
   * Applies queued commands at the simulation time reached, each once: a
   * requestId with a stored result gets that result again. Each result is
   * stored together with the command's control-log entry (its simulation time)
   * in one atomic step, then published on the control channel (an ack, then the
   * new state) in the same id order as the events. A command applied whose
   * commit failed (Redis unavailable) is committed again first thing next step,
   * never applied twice; no snapshot is taken until it is.
   */
  async #applyCommands(wall: number): Promise<void> {
    const { redis, keys, engine } = this.#o
    const out: SimEvent[] = []
    while (this.#uncommitted.length > 0) {
      await this.#commit(this.#uncommitted[0] as Uncommitted, out, wall)
      this.#uncommitted.shift()
    }
    while (this.#commands.length > 0) {
      const entry = this.#commands[0] as ControlEntry
      const cmd = entry.command
      const stored = await readControlResult(redis, keys, cmd.requestId)
      this.#commands.shift()
      if (stored !== null) {
        await redis.set(keys.controlCursor, entry.entryId)
        // The same requestId for another action or payload is refused, not answered
        // with the first result (nothing is applied; the first result stays stored).
        if (reused(stored, cmd)) {
          out.push(this.#ack(conflictResult(cmd, stored), cmd.ref))
          continue
        }
        out.push(this.#ack(stored, cmd.ref))
        if (stored.success && cmd.action !== 'get_state') {
          out.push(this.#controlEvent(ControlStream.state, this.state(wall)))
        }
        continue
      }
      let result: ControlResult
      const age = wall - Number(entry.entryId.split('-')[0])
      try {
        if (age > COMMAND_MAX_AGE_MS) {
          throw new ControlError(
            ControlErrorCode.expired,
            `command sent ${Math.round(age / 1000)} s ago, before the generator could take it; not applied`,
            409,
          )
        }
        const value = await this.#apply(cmd, wall)
        result = { requestId: cmd.requestId, action: cmd.action, success: true, result: value }
        // the state before the answer: a caller who reads it after the answer sees the command applied
        if (!READ_ONLY_ACTIONS.includes(cmd.action)) await this.#writeState(wall)
      } catch (err) {
        if (!(err instanceof ControlError))
          this.#o.log.error({ err, cmd }, 'control command failed')
        result = errorResult(cmd, err)
      }
      if (cmd.fingerprint !== undefined) result.fingerprint = cmd.fingerprint
      const applied: Uncommitted = { entry, result, simTime: engine.now }
      this.#uncommitted.push(applied)
      await this.#commit(applied, out, wall)
      this.#uncommitted.shift()
    }
    await this.#write(out.map((e) => this.#encode!(e, wall)))
    await this.#writeState(wall)
  }

  /** Commits an applied command (result + control-log entry + cursor, atomically) and queues its ack. */
  async #commit(c: Uncommitted, out: SimEvent[], wall: number): Promise<void> {
    const { redis, keys } = this.#o
    const cmd = c.entry.command
    const readOnly = READ_ONLY_ACTIONS.includes(cmd.action)
    const committed = await commitControl(redis, keys, {
      entryId: c.entry.entryId,
      command: cmd,
      result: c.result,
      simTime: c.simTime,
      log: !readOnly,
      maxLen: this.#o.controlLogMaxLen ?? CONTROL_LOG_MAX_LEN,
    })
    const result = reused(committed.result, cmd)
      ? conflictResult(cmd, committed.result)
      : committed.result
    if (committed.logId !== null) {
      this.#logId = committed.logId
      this.#loggedSinceSnapshot++
    }
    if (result.success) await this.#afterCommand(cmd.action)
    out.push(this.#ack(result, cmd.ref))
    if (readOnly) return
    this.#o.log.info(
      {
        action: cmd.action,
        requestId: cmd.requestId,
        success: result.success,
        error: result.error?.message,
      },
      'control command',
    )
    const warnings = (result.result as { warnings?: unknown[] } | undefined)?.warnings
    if (warnings && warnings.length > 0) {
      this.#o.log.warn(
        { action: cmd.action, warnings },
        'modifier conflicts (several sources on one parameter)',
      )
    }
    if (result.success && cmd.action !== 'get_state') {
      out.push(this.#controlEvent(ControlStream.state, this.state(wall)))
    }
  }

  /** Applies one command; history actions go to the history service, the rest to the engine/clock. */
  async #apply(cmd: ControlEntry['command'], wall: number): Promise<unknown> {
    const { engine } = this.#o
    const history = this.#o.history
    if (TIME_ACTIONS.has(cmd.action)) return this.#timeAction(cmd)
    if (cmd.action === 'history_scenario') {
      if (!history)
        throw new ControlError(ControlErrorCode.notSupported, 'history is not enabled', 501)
      // its errors are ControlErrors naming the field
      return history.applyScenario(
        cmd.payload as { scenarioId: string; start: string; stop?: string },
      )
    }
    if (cmd.action === 'inject_event') this.#checkEventTime(cmd.payload.timestamp)
    const value = applyCommand(
      cmd,
      { clock: this.#o.clock, engine, state: () => this.state(wall) },
      wall,
    )
    if (!history) return value
    switch (cmd.action) {
      case 'inject_event': {
        const event = value as ExternalEvent
        const h = await history.afterInject(event, cmd.payload)
        await history.publishEvents(engine.externalEvents())
        return { ...event, history: h }
      }
      case 'reset': {
        const h = await history.reset()
        await history.publishEvents(engine.externalEvents())
        return { ...(value as Record<string, unknown>), history: h }
      }
      case 'set_scenario':
      case 'stop_scenario':
        await history.publishEvents(engine.externalEvents())
        return value
      case 'list_external_events': {
        const p = cmd.payload as { start?: string; end?: string }
        const range = {
          ...(p.start === undefined ? {} : { start: Date.parse(p.start) }),
          ...(p.end === undefined ? {} : { end: Date.parse(p.end) }),
        }
        const live = (value as { events: ExternalEvent[] }).events
        return { events: [...history.baselineEvents(range), ...live] }
      }
      default:
        return value
    }
  }

  /** Snapshots and time travel (issue 19): the time machine's, the switch of timeline here. */
  async #timeAction(cmd: ControlEntry['command']): Promise<unknown> {
    const tm = this.#o.timeMachine
    if (!tm)
      throw new ControlError(
        ControlErrorCode.notSupported,
        'snapshots and time travel are not enabled in this generator',
        501,
      )
    validatePayload(cmd)
    const p = cmd.payload as Record<string, string | boolean | undefined>
    switch (cmd.action) {
      case 'create_snapshot':
        return tm.create(p.name as string, (p.description as string | undefined) ?? '')
      case 'list_snapshots':
        return tm.list()
      case 'delete_snapshot':
        return tm.delete(p.id as string)
      case 'list_timelines':
        return tm.timelines()
      case 'restore_snapshot': {
        const saved = await tm.load(p.id as string)
        return this.#switchTimeline('restore', saved.meta.id, () => {
          tm.restoreInto(saved.bytes)
          return { from: saved.at, replayed: 0, before: null }
        })
      }
      default: {
        const raw = p.targetTime as string
        const target = parseIsoTime(raw)
        if (target === null)
          throw new ControlError(
            ControlErrorCode.invalidPayload,
            `targetTime: ${JSON.stringify(raw)} is not an ISO 8601 time (or names a day that does not exist)`,
            400,
          )
        if (p.dryRun === true) return tm.preview(target)
        tm.checkTarget(target)
        return this.#switchTimeline('travel', undefined, () =>
          tm.travelInto(target, (engine, to) => this.#skipRecording(engine, to)),
        )
      }
    }
  }

  /**
   * A new timeline: the current one is left (saved, its commands recorded), the
   * engine switched by `change`, and the streams begin a new epoch with the old
   * line's events deleted in the same transaction, so gateways close their
   * clients to resume (`epoch_changed`, then a snapshot of the new streams) and
   * no event of the old line reaches anyone after it. The history from the
   * switch on is the new line's; a travel pauses there.
   */
  async #switchTimeline(
    reason: 'restore' | 'travel',
    restoredFrom: string | undefined,
    change: () => { from: number; replayed: number; before: SimEvent[] | null },
  ): Promise<Record<string, unknown>> {
    const { engine, clock, redis, keys, log } = this.#o
    const tm = this.#o.timeMachine as TimeMachine
    const history = this.#o.history
    const t0 = performance.now()
    await history?.flush()
    const before = engine.now
    const left = await tm.leave()
    const { from, replayed, before: bucketEvents } = change()
    const at = engine.now
    const line = await tm.begin(reason, left, restoredFrom)
    const channels = [
      ...new Set([
        ...engine.catalog().map((s) => s.channel),
        SpecialChannel.external,
        SpecialChannel.control,
      ]),
    ]
    this.#epoch = await replaceEpoch(redis, keys, this.#ids.last() ?? '0-0', channels)
    if (history) {
      if (at < before) {
        const bucket = Math.floor(at / BUCKET_MS) * BUCKET_MS
        await history.rewind(at, bucketEvents ?? tm.eventsBetween(bucket, at), line.id)
      }
      await history.flush() // what a travel ahead skipped
      await history.publishEvents(engine.externalEvents())
    }
    // the clock stands at the switch's time when it is done (not when the step began)
    const done = this.#now()
    clock.slip(at, done)
    if (reason === 'travel') clock.pause(done)
    this.#recentAnomalies = []
    // the restart point must be on the new line: the next snapshot is taken at the end of this step
    this.#lastSnapshot = -Infinity
    const tookMs = Math.round(performance.now() - t0)
    log.info(
      {
        reason,
        timeline: line.id,
        left: left.id,
        from: new Date(before).toISOString(),
        to: new Date(at).toISOString(),
        replayed,
        tookMs,
      },
      'new timeline',
    )
    return {
      timeline: line,
      left: { id: left.id, leftAt: left.leftAt, returnSnapshot: left.returnSnapshot },
      epoch: this.#epoch.epoch,
      currentSimulationTime: new Date(at).toISOString(),
      paused: clock.paused,
      /** The snapshot it started from (simulation time) and the commands replayed after it. */
      from: new Date(from).toISOString(),
      replayed,
      tookMs,
    }
  }

  /** A travel ahead: the engine advanced to `to`, its events counted into the history, not published. */
  #skipRecording(engine: Engine, to: number): void {
    while (engine.now < to) {
      const events = engine.advance(Math.min(to, engine.now + DAY))
      this.#o.history?.record(events)
    }
  }

  /**
   * An injected event's time must be a real calendar time inside the run's
   * window: from the start of the stored history (without history, as far
   * before the run start as the window reaches ahead) to {@link EXTERNAL_EVENT_MAX_AHEAD_MS} after the current
   * simulation time. Anything else is refused naming the allowed range.
   */
  #checkEventTime(raw: unknown): void {
    if (typeof raw !== 'string' && typeof raw !== 'number') return // the schema reports it
    const from = this.#o.history?.book.series.from ?? this.#startedAt - EXTERNAL_EVENT_MAX_AHEAD_MS
    const to = this.#o.engine.now + EXTERNAL_EVENT_MAX_AHEAD_MS
    const range = `expected a time from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`
    const ms = typeof raw === 'number' ? raw : parseIsoTime(raw)
    if (ms === null || !Number.isFinite(ms))
      throw new ControlError(
        ControlErrorCode.invalidPayload,
        `timestamp: ${JSON.stringify(raw)} is not an ISO 8601 time (or names a day that does not exist); ${range}`,
        400,
      )
    if (ms < from || ms > to)
      throw new ControlError(
        ControlErrorCode.invalidPayload,
        `timestamp: ${new Date(ms).toISOString()} is outside the run's window; ${range}`,
        400,
      )
  }

  /** Keeps the last 20 warning/critical events for the state's `recentAnomalies`. */
  #noteAnomalies(events: SimEvent[], raw: RawEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as SimEvent
      if (e.anomalyFlag === 'normal') continue
      this.#recentAnomalies.push({
        id: (raw[i] as RawEvent).id,
        stream: e.stream,
        timestamp: new Date(e.ts).toISOString(),
        normalizedValue: e.normalizedValue,
        anomalyFlag: e.anomalyFlag,
      })
    }
    if (this.#recentAnomalies.length > 20) this.#recentAnomalies = this.#recentAnomalies.slice(-20)
  }

  /** Keeps the BullMQ transition job in step with the engine and the clock. */
  async #afterCommand(action: string): Promise<void> {
    const t = this.#o.transitions
    if (!t) return
    try {
      if (SCENARIO_ACTIONS.has(action)) {
        const s = this.#o.engine.scenarioStatus()
        await t.schedule(s?.nextTransition ? { runId: s.runId, ...s.nextTransition } : null)
      } else if (CLOCK_ACTIONS.has(action)) {
        await t.reschedule()
      }
    } catch (err) {
      // The command took effect; only its follow-up could not be scheduled.
      this.#o.log.error({ err, action }, 'could not schedule the scenario transition')
    }
  }

  /**
   * A result as published on the public `simulation_control` channel: with the
   * sender's opaque ref, without the requestId (the caller's idempotency key).
   */
  #ack(result: ControlResult, ref: string | undefined): SimEvent {
    return this.#controlEvent(ControlStream.ack, publicAck(result, ref))
  }

  #controlEvent(stream: string, data: ControlAck | Record<string, unknown>): SimEvent {
    return {
      ts: this.#o.engine.now,
      stream,
      channel: 'simulation_control',
      data: data as unknown as Record<string, unknown>,
      normalizedValue: 50,
      anomalyFlag: 'normal',
      causes: [],
    }
  }

  /** The simulation state as REST and `state_update` report it. */
  state(wall: number = this.#now()): Record<string, unknown> {
    const { clock, engine } = this.#o
    return {
      world: this.#o.world,
      seed: this.#o.seed,
      warmupHours: this.#o.warmupHours ?? 0,
      speed: clock.speed,
      /** The speed actually kept over the last seconds (below `speed` when the generator cannot keep up; 0 paused). */
      effectiveSpeed: clock.paused ? 0 : this.#speed.effective,
      running: !clock.paused,
      paused: clock.paused,
      startedAt: new Date(this.#startedAt).toISOString(),
      currentSimulationTime: new Date(engine.now).toISOString(),
      epoch: this.#epoch?.epoch ?? null,
      lastId: this.#ids.last(),
      eventsGenerated: this.#written,
      /** The world's own figures (`statsKeys` of GET /api/world), e.g. tutoring's entity counts. */
      stats: engine.stats().world,
      scenario: engine.scenarioStatus(),
      activeModifiers: engine.activeModifiers(),
      activeEvents: activeExternalEvents(engine),
      recentAnomalies: [...this.#recentAnomalies].reverse(),
      historicalMode: this.#o.history?.mode ?? 'baseline',
      /** The timeline the run is on (a restore or a travel begins a new one). */
      timeline: this.#o.timeMachine?.current ?? null,
      history: this.#o.history?.summary() ?? null,
      updatedAt: new Date(wall).toISOString(),
    }
  }

  /** Stream and scenario catalogs, for the gateway's REST reads. */
  async #publishCatalogs(): Promise<void> {
    const { redis, keys, engine } = this.#o
    const scenarios = engine.scenarios().map(({ id, name, description, duration }) => ({
      id,
      name,
      description,
      duration,
    }))
    // What the gateway lists: not the modifiers (injecting applies them).
    const templates = engine.templates().map((t): ExternalEventTemplateInfo => {
      const { id, category, title, description, severity, icon, redHerring, timing } = t
      return {
        id,
        category,
        title,
        description,
        severity,
        icon,
        redHerring,
        timing,
        expectedImpact: t.expectedImpact,
      }
    })
    await redis
      .multi()
      .set(keys.catalog, JSON.stringify(engine.catalog()))
      .set(keys.scenarios, JSON.stringify(scenarios))
      .set(keys.templates, JSON.stringify(templates))
      .exec()
    // What GET /api/world serves: the description with the keys of the world's figures.
    await writeWorldDescription(redis, keys, {
      ...engine.describe(),
      statsKeys: Object.keys(engine.stats().world),
    } as WorldDescription)
  }

  /** Redis restarted empty? Then the epoch is gone: make a new one. */
  async #checkEpoch(): Promise<void> {
    const current = await readEpoch(this.#o.redis, this.#o.keys)
    if (current && current.epoch === this.#epoch?.epoch) return
    this.#epoch = await ensureEpoch(this.#o.redis, this.#o.keys, this.#ids.last() ?? '0-0')
    await this.#publishCatalogs()
    // The snapshot and the control log were lost too: take one now, covering the empty log.
    this.#logId = '0-0'
    this.#lastSnapshot = -Infinity
    await this.#o.history?.restoreAfterLoss(this.#o.engine.externalEvents())
    this.#o.log.warn({ epoch: this.#epoch.epoch }, 'stream epoch changed (Redis lost its data)')
  }

  async #writeState(wall: number): Promise<void> {
    this.#lastStateWrite = wall
    await this.#o.redis.set(this.#o.keys.state, JSON.stringify(this.state(wall)))
  }

  /**
   * A snapshot is due every `snapshotEveryMs`, and after half the control log's
   * length in commands, so the log never trims a command the snapshot lacks.
   */
  #snapshotDue(wall: number): boolean {
    const maxLen = this.#o.controlLogMaxLen ?? CONTROL_LOG_MAX_LEN
    return (
      this.#uncommitted.length === 0 &&
      (wall - this.#lastSnapshot >= (this.#o.snapshotEveryMs ?? 60_000) ||
        this.#loggedSinceSnapshot >= Math.max(1, Math.floor(maxLen / 2)))
    )
  }

  /**
   * Stores the engine's snapshot with the control-log position it covers: taken
   * between steps, once the step's events are written, so a restart restores it
   * and applies only the commands logged after that position.
   */
  async #snapshot(wall: number): Promise<void> {
    const { redis, keys, engine } = this.#o
    await writeSnapshot(redis, keys, {
      engine: engine.snapshot(),
      logId: this.#logId,
      worldHash: this.#o.worldHash ?? '',
      world: this.#o.world,
      seed: this.#o.seed,
      warmupHours: this.#o.warmupHours ?? 0,
      startedAt: this.#startedAt,
      simTime: engine.now,
      takenAt: wall,
    })
    this.#lastSnapshot = wall
    this.#loggedSinceSnapshot = 0
  }

  /** Stops ticking, waits for the step in flight and stores a last snapshot. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true
      if (this.#timer) clearTimeout(this.#timer)
      await this.#stepping
      if (!this.#started) return
      if (this.#uncommitted.length > 0) {
        // Their results were never stored: a restart takes them from the control stream again.
        this.#o.log.warn(
          { commands: this.#uncommitted.length },
          'stopping with applied commands not committed; no snapshot taken',
        )
        return
      }
      try {
        await this.#snapshot(this.#now())
      } catch (err) {
        this.#o.log.warn(
          { err: (err as Error).message },
          'could not store the engine snapshot on shutdown; a restart replays from the previous one',
        )
      }
    })()
    return this.#closed
  }
}

/** External events (red herrings included, flagged) whose impact window contains the current simulation time. */
function activeExternalEvents(engine: Engine): ExternalEvent[] {
  return engine
    .externalEvents()
    .filter((e) => e.window.start <= engine.now && engine.now < e.window.end)
}
