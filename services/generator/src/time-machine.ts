/**
 * Snapshots, restore and time travel for the running generator (issue 19,
 * DESIGN.md "Snapshots make time a dimension"). Three stores:
 *
 * - **saved snapshots** in Redis under the world's keys (`snapshot:saved:*`):
 *   the run's start, those asked for, and where each abandoned timeline was left.
 *   Redis, because the gateways list them and a restarted generator restores
 *   them; a few MB each (tutoring 30 days in: 2.7 MB), so their number is capped.
 * - **automatic snapshots** every few simulated hours ({@link RunTimeline},
 *   thinned as they age), in the generator's memory: they are a cache (any of
 *   them can be computed again from the run's start), about 120 MB for a 30-day
 *   run, which Redis need not hold.
 * - **timelines** (`timelines`): the current one and each one a restore or a
 *   travel left, with its commands and the snapshot that goes back to it.
 *
 * The loop does the switch itself (new epoch, history, clock); this class keeps
 * the engine's side and the records.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import {
  clearSavedSnapshots,
  deleteSavedSnapshot,
  listSavedSnapshots,
  listTimelines,
  readSavedSnapshot,
  saveSnapshot,
  writeTimeline,
  type SavedSnapshotKind,
  type SavedSnapshotMeta,
  type TimelineCommand,
  type TimelineRecord,
  type WorldKeys,
} from '@verisim/bus'
import type { SnapshotList, TimelineInfo, TimelineList, TravelPreview } from '@verisim/schema'
import {
  BUCKET_MS,
  HOUR,
  inspectSnapshot,
  MINUTE,
  RunTimeline,
  type Engine,
  type JournalEntry,
  type SimEvent,
  type World,
} from '@verisim/sim'
import { ControlError, ControlErrorCode } from './control.js'

export interface TimeMachineOptions {
  redis: Redis
  keys: WorldKeys
  world: World
  /** The loop's engine (restored in place on a switch). */
  engine: Engine
  seed: number
  /** Simulation start of the run (after the warm-up): the earliest travel target. */
  startedAt: number
  log: Logger
  /** Simulation time between automatic snapshots (default 3 h). */
  everyMs?: number
  /** Saved snapshots kept at most, the run's start and the timelines' return points included (default 50). */
  maxSaved?: number
  /** Wall clock; injectable for tests. */
  now?: () => number
}

/** Wall time between two automatic snapshots at least. */
export const CHECKPOINT_MIN_WALL_MS = 10_000
/** How far past the current simulation time a travel may go. */
export const TRAVEL_MAX_AHEAD_MS = 30 * 24 * HOUR
/** A dry run's events: this much simulation time either side of the target, … */
export const PREVIEW_WINDOW_MS = 10 * MINUTE
/** … at most this many either side (the closest to the target). */
export const PREVIEW_MAX_EVENTS = 200

const iso = (t: number): string => new Date(t).toISOString()

function publicEvent(e: SimEvent): Record<string, unknown> {
  return {
    timestamp: iso(e.ts),
    stream: e.stream,
    channel: e.channel,
    data: e.data,
    normalizedValue: e.normalizedValue,
    anomalyFlag: e.anomalyFlag,
    causes: e.causes,
  }
}

/** The commands of a journal, as a timeline lists them. */
function commandsOf(journal: readonly JournalEntry[]): TimelineCommand[] {
  return journal.map(({ t, op, ...detail }) => ({
    action: op,
    simulatedTime: iso(t),
    detail: detail as Record<string, unknown>,
  }))
}

export class TimeMachine {
  readonly #o: TimeMachineOptions
  readonly #now: () => number
  #timeline!: RunTimeline
  #current!: TimelineRecord
  /** Journal length when the current timeline began: its own commands come after. */
  #forkCalls = 0
  #lastCheckpoint = -Infinity

  constructor(opts: TimeMachineOptions) {
    this.#o = opts
    this.#now = opts.now ?? Date.now
  }

  /**
   * A new run (`continuing` false): clears what an earlier run saved, saves the
   * run's start and begins timeline 1. A continued run: takes the saved start
   * back as the first automatic snapshot and the current timeline from Redis.
   */
  async init(continuing: boolean): Promise<void> {
    const { redis, keys, world, engine, log } = this.#o
    const everyMs = this.#o.everyMs ?? 3 * HOUR
    if (continuing) {
      const saved = await listSavedSnapshots(redis, keys)
      const originMeta = saved.find((s) => s.kind === 'origin')
      const origin = originMeta ? await readSavedSnapshot(redis, keys, originMeta.id) : null
      try {
        this.#timeline = new RunTimeline(world, engine, {
          everyMs,
          ...(origin ? { origin: origin.bytes } : {}),
        })
      } catch (err) {
        log.warn(
          { err: (err as Error).message },
          'the saved run start cannot be used: time travel reaches back to the restart only',
        )
        this.#timeline = new RunTimeline(world, engine, { everyMs })
      }
      const lines = await listTimelines(redis, keys)
      const current = lines.filter((l) => l.leftAt === undefined).at(-1)
      if (current) {
        this.#current = current
        this.#forkCalls = engine.journal().filter((c) => c.t < Date.parse(current.forkedAt)).length
        return
      }
    } else {
      await clearSavedSnapshots(redis, keys)
      const bytes = engine.snapshot()
      await this.#save('Run start', 'the run as it began (seed, world)', 'origin', bytes, 'tl_1')
      this.#timeline = new RunTimeline(world, engine, { everyMs, origin: bytes })
    }
    this.#current = {
      id: 'tl_1',
      number: 1,
      parent: null,
      reason: 'start',
      forkedAt: iso(this.#o.startedAt),
      createdAt: iso(this.#now()),
      commands: [],
    }
    this.#forkCalls = 0
    await writeTimeline(redis, keys, this.#current)
  }

  /** The current timeline (for the state). */
  get current(): TimelineInfo {
    const { id, number, parent, reason, forkedAt } = this.#current
    return { id, number, parent, reason, forkedAt }
  }

  /**
   * After each step: an automatic snapshot when one is due, at most one per
   * {@link CHECKPOINT_MIN_WALL_MS} of wall time (each costs the event loop about
   * 0.6 s: at 10,000× they would come every second; spaced out, a travel
   * re-simulates a little more instead).
   */
  checkpoint(): void {
    const wall = this.#now()
    if (wall - this.#lastCheckpoint < CHECKPOINT_MIN_WALL_MS) return
    if (this.#timeline.checkpoint()) this.#lastCheckpoint = wall
  }

  /** `create_snapshot`: the engine now, named. */
  async create(name: string, description = ''): Promise<SavedSnapshotMeta> {
    return this.#save(name, description, 'manual', this.#o.engine.snapshot(), this.#current.id)
  }

  /** `list_snapshots`: the saved ones and the automatic ones (times only). */
  async list(): Promise<SnapshotList> {
    const { redis, keys } = this.#o
    const saved = await listSavedSnapshots(redis, keys)
    const auto = this.#timeline.entries
    return {
      snapshots: saved,
      maxSaved: this.#max,
      storage: 'redis',
      automatic: {
        storage: 'generator memory',
        everyHours: (this.#o.everyMs ?? 3 * HOUR) / HOUR,
        count: auto.length,
        sizeBytes: this.#timeline.byteLength,
        times: auto.map((e) => iso(e.at)),
      },
      timeline: this.current,
    }
  }

  /** `delete_snapshot`: any but the run's start. */
  async delete(id: string): Promise<{ deleted: string }> {
    const { redis, keys } = this.#o
    const found = await readSavedSnapshot(redis, keys, id)
    if (!found) throw this.#unknown(id)
    if (found.meta.kind === 'origin')
      throw new ControlError(
        ControlErrorCode.snapshotProtected,
        `${id} is the run's start ("${found.meta.name}"): it is kept while the run lasts (travel and restore begin from it)`,
        409,
      )
    await deleteSavedSnapshot(redis, keys, id)
    return { deleted: id }
  }

  /** `list_timelines`: the current one first, then the ones left, newest first. */
  async timelines(): Promise<TimelineList> {
    const lines = await listTimelines(this.#o.redis, this.#o.keys)
    const own = commandsOf(this.#o.engine.journal().slice(this.#forkCalls))
    const current = { ...this.#current, commands: own }
    return {
      current: current.id,
      timelines: [current, ...lines.filter((l) => l.id !== current.id).reverse()],
    }
  }

  /**
   * Reads a saved snapshot to restore and checks it is this run's (same world,
   * config, seed and start). Throws `VS_GEN_UNKNOWN_SNAPSHOT` (404) or
   * `VS_GEN_SNAPSHOT_OTHER_RUN` (409).
   */
  async load(id: string): Promise<{ meta: SavedSnapshotMeta; bytes: Uint8Array; at: number }> {
    const found = await readSavedSnapshot(this.#o.redis, this.#o.keys, id)
    if (!found) throw this.#unknown(id)
    const info = inspectSnapshot(found.bytes)
    const origin = inspectSnapshot(this.#timeline.entries[0]!.bytes)
    if (
      info.world !== this.#o.world.id ||
      info.worldHash !== this.#o.world.hash ||
      info.seed !== this.#o.seed ||
      info.start !== origin.start
    )
      throw new ControlError(
        ControlErrorCode.snapshotOtherRun,
        `${id} belongs to another run (world ${info.world}, seed ${info.seed}, engine start ${iso(info.start)}); this run is world ${this.#o.world.id}, seed ${this.#o.seed}, engine start ${iso(origin.start)}`,
        409,
      )
    return { ...found, at: info.now }
  }

  /**
   * The window a travel may reach: from the run's start to
   * {@link TRAVEL_MAX_AHEAD_MS} past now. Throws `VS_GEN_INVALID_PAYLOAD` naming it.
   */
  checkTarget(target: number): void {
    const from = Math.max(this.#o.startedAt, this.#timeline.entries[0]!.at)
    const to = this.#o.engine.now + TRAVEL_MAX_AHEAD_MS
    if (!(target >= from && target <= to))
      throw new ControlError(
        ControlErrorCode.invalidPayload,
        `targetTime: ${Number.isFinite(target) ? iso(target) : String(target)} is outside the run; expected a time from ${iso(from)} (the run's start${from > this.#o.startedAt ? ' kept by this generator' : ''}) to ${iso(to)} (30 simulated days past now)`,
        400,
      )
  }

  /** `travel` with `dryRun`: a copy of the engine around `target`; the run is not touched. */
  preview(target: number): TravelPreview {
    this.checkTarget(target)
    const t0 = performance.now()
    const first = this.#timeline.entries[0]!.at
    const start = Math.max(first, target - PREVIEW_WINDOW_MS)
    const r = this.#timeline.travel(start)
    const before = r.engine.advance(target).slice(-PREVIEW_MAX_EVENTS)
    const engine = r.engine
    const state = {
      currentSimulationTime: iso(engine.now),
      stats: engine.stats().world,
      scenario: engine.scenarioStatus(),
      activeModifiers: engine.activeModifiers(),
      activeEvents: engine
        .externalEvents()
        .filter((e) => e.window.start <= engine.now && engine.now < e.window.end),
      anomalousStreams: engine
        .signals()
        .filter((s) => s.flag !== 'normal')
        .map((s) => ({
          stream: s.stream,
          flag: s.flag,
          z: s.flagZ,
          count: s.count,
          expected: s.expected,
        })),
    }
    const after = engine.advance(target + PREVIEW_WINDOW_MS).slice(0, PREVIEW_MAX_EVENTS)
    return {
      dryRun: true,
      targetTime: iso(target),
      from: iso(r.from),
      replayed: r.replayed,
      tookMs: Math.round(performance.now() - t0),
      state,
      events: { before: before.map(publicEvent), after: after.map(publicEvent) },
      windowMs: PREVIEW_WINDOW_MS,
    }
  }

  /**
   * Leaves the current timeline: saves where it stands (the snapshot that goes
   * back to it) and records its commands. Call before switching the engine.
   */
  async leave(): Promise<TimelineRecord> {
    const { engine } = this.#o
    const ret = await this.#save(
      `End of timeline ${this.#current.number}`,
      `where timeline ${this.#current.number} was left; restore it to go back to that line`,
      'branch',
      engine.snapshot(),
      this.#current.id,
    )
    const left: TimelineRecord = {
      ...this.#current,
      commands: commandsOf(engine.journal().slice(this.#forkCalls)),
      leftAt: iso(engine.now),
      leftAtWall: iso(this.#now()),
      returnSnapshot: ret.id,
    }
    await writeTimeline(this.#o.redis, this.#o.keys, left)
    return left
  }

  /** Restores the live engine to a saved snapshot's state (after {@link leave}). */
  restoreInto(bytes: Uint8Array): void {
    this.#o.engine.restore(bytes)
    this.#timeline.rebase()
  }

  /**
   * Takes the live engine to `target` (after {@link leave}). Back: from the
   * nearest automatic snapshot, with the calls replayed, to the start of
   * `target`'s history bucket, then on to `target` keeping those events (`before`:
   * the bucket's part the history records again). Ahead: `ahead` advances it
   * (the loop records what it skips). Returns what it cost.
   */
  travelInto(
    target: number,
    ahead: (engine: Engine, to: number) => void,
  ): { from: number; replayed: number; before: SimEvent[] | null } {
    const { engine } = this.#o
    if (target >= engine.now) {
      const from = engine.now
      ahead(engine, target)
      return { from, replayed: 0, before: null }
    }
    const bucket = Math.max(
      this.#timeline.entries[0]!.at,
      Math.floor(target / BUCKET_MS) * BUCKET_MS,
    )
    const r = this.#timeline.travel(bucket, engine)
    const before = engine.advance(target)
    this.#timeline.rebase()
    return { from: r.from, replayed: r.replayed, before }
  }

  /**
   * The new line's events from `from` up to `to` (its present), computed on a
   * copy: the part of the current history bucket before the switch.
   */
  eventsBetween(from: number, to: number): SimEvent[] {
    const first = this.#timeline.entries[0]!.at
    if (to <= from || to <= first) return []
    const copy = this.#timeline.travel(Math.max(from, first)).engine
    return copy.advance(to)
  }

  /** Begins the next timeline (after the engine was switched). */
  async begin(
    reason: 'restore' | 'travel',
    parent: TimelineRecord,
    restoredFrom?: string,
  ): Promise<TimelineRecord> {
    const { engine, redis, keys } = this.#o
    const lines = await listTimelines(redis, keys)
    const number = Math.max(this.#current.number, ...lines.map((l) => l.number)) + 1
    this.#current = {
      id: `tl_${number}`,
      number,
      parent: parent.id,
      reason,
      forkedAt: iso(engine.now),
      createdAt: iso(this.#now()),
      ...(restoredFrom === undefined ? {} : { restoredFrom }),
      commands: [],
    }
    this.#forkCalls = engine.journal().length
    await writeTimeline(redis, keys, this.#current)
    return this.#current
  }

  get #max(): number {
    return this.#o.maxSaved ?? 50
  }

  async #save(
    name: string,
    description: string,
    kind: SavedSnapshotKind,
    bytes: Uint8Array,
    timeline: string,
  ): Promise<SavedSnapshotMeta> {
    const { redis, keys, engine } = this.#o
    const count = await redis.hlen(keys.savedSnapshots)
    if (count >= this.#max)
      throw new ControlError(
        ControlErrorCode.snapshotLimit,
        `${count} snapshots are saved, the most this generator keeps (VERISIM_SNAPSHOTS_MAX=${this.#max}); delete one (DELETE /api/simulation/snapshots/:id) first`,
        409,
      )
    return saveSnapshot(
      redis,
      keys,
      {
        name,
        description,
        kind,
        simulatedTime: iso(engine.now),
        createdAt: iso(this.#now()),
        timeline,
        commands: engine.journal().length,
      },
      bytes,
    )
  }

  #unknown(id: string): ControlError {
    return new ControlError(
      ControlErrorCode.unknownSnapshot,
      `no saved snapshot ${id} (GET /api/simulation/snapshots lists them)`,
      404,
    )
  }
}
