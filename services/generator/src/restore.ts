/**
 * The engine of a run: a new one warmed up, or the previous run's continued
 * after a generator restart (DESIGN.md "Snapshots make time a dimension"). A
 * restart restores the run's latest engine snapshot, applies again only the
 * control-log commands logged after the position it covers (each at the
 * simulation time it took effect), and regenerates up to the last published
 * event without publishing it. The scenario in progress, its external events
 * and its pending BullMQ transition (same runId) carry on. A snapshot taken
 * with another config of the world is refused, never replayed; a run from
 * before snapshots were stored replays its whole control log.
 */
import type { Redis } from 'ioredis'
import {
  entryToRawEvent,
  lastStoredId,
  readControlLog,
  readSnapshot,
  type WorldKeys,
} from '@verisim/bus'
import { SpecialChannel, type AnyControlAction, type StreamInfo } from '@verisim/schema'
import { createEngine, HOUR, restoreEngine, skipTo, type Engine, type World } from '@verisim/sim'
import { SimClock } from './clock.js'
import { applyCommand } from './control.js'

export interface PreviousRun {
  /** Simulation start of the run (epoch ms). */
  startedAt: number
  /** Simulation time of the last published event: regenerate up to here, publish after. */
  resumeAt: number
  speed: number
  paused: boolean
}

/** Commands that change the engine (clock commands are restored from the state instead). */
const ENGINE_ACTIONS = new Set<AnyControlAction>([
  'set_scenario',
  'stop_scenario',
  'scenario_transition',
  'reset',
  'inject_event',
  'adjust_behavior',
  'world_action',
  'spawn_users',
])

/** The previous run of this world and seed, if its state is still in Redis. */
const SWITCHED =
  'it switched timelines (a restore or a travel) after its last snapshot, which therefore cannot lead to where it stopped'
/** Actions that begin a new timeline (time-machine.ts). */
const SWITCH_ACTIONS = new Set<AnyControlAction>(['restore_snapshot', 'travel'])

export async function findPreviousRun(
  redis: Redis,
  keys: WorldKeys,
  expect: { world: string; seed: number; warmupHours: number },
): Promise<PreviousRun | null> {
  const raw = await redis.get(keys.state)
  if (raw === null) return null
  const s = JSON.parse(raw) as Record<string, unknown>
  if (s.world !== expect.world || s.seed !== expect.seed || s.warmupHours !== expect.warmupHours)
    return null
  const startedAt = Date.parse(String(s.startedAt))
  let resumeAt = Date.parse(String(s.currentSimulationTime))
  if (Number.isNaN(startedAt) || Number.isNaN(resumeAt)) return null
  const catalog = JSON.parse((await redis.get(keys.catalog)) ?? '[]') as StreamInfo[]
  const channels = [...new Set(catalog.map((c) => c.channel)), SpecialChannel.external]
  const last = await lastStoredId(redis, keys, channels)
  if (last !== null) {
    for (const ch of channels) {
      const [entry] = await redis.xrange(keys.channel(ch), last, last)
      if (!entry) continue
      const { timestamp } = JSON.parse(entryToRawEvent(ch, entry[0], entry[1]).json) as {
        timestamp: string
      }
      resumeAt = Math.max(resumeAt, Date.parse(timestamp))
    }
  }
  return { startedAt, resumeAt, speed: Number(s.speed) || 1, paused: s.paused === true }
}

/**
 * A new engine for a run starting at `start`, warmed up: `warmupHours` simulated
 * before it, their events dropped, so the world is in its steady state at `start`.
 */
export function createWarmEngine(opts: {
  world: World
  seed: number
  start: number
  warmupHours: number
}): { engine: Engine; events: number } {
  const engine = createEngine({
    world: opts.world,
    seed: opts.seed,
    start: opts.start - opts.warmupHours * HOUR,
  })
  let events = 0
  while (engine.now < opts.start)
    events += engine.advance(Math.min(engine.now + HOUR, opts.start)).length
  return { engine, events }
}

/**
 * Applies the control log's engine commands logged after `after` (exclusive;
 * `'0-0'`: all) again, each at its simulation time, then advances to `upTo`;
 * nothing is published. Returns how many were applied, the newest entry
 * taken (the position the engine now covers), and whether entries right after
 * `after` are missing (trimmed from the log: the continuation may differ).
 */
export async function replayControlLogAfter(
  redis: Redis,
  keys: WorldKeys,
  engine: Engine,
  upTo: number,
  after: string,
): Promise<{ applied: number; lastId: string; gap: boolean; switched: boolean }> {
  const scratch = new SimClock({ start: engine.now, speed: 1, wallNow: 0 })
  const PAGE = 1000
  let cursor = after
  let lastId = after
  let applied = 0
  let gap = false
  let switched = false
  read: for (;;) {
    const page = await readControlLog(redis, keys, cursor, PAGE)
    for (const e of page) {
      // A restore or a travel after the snapshot: the commands after it are
      // another timeline's, which this snapshot cannot lead to.
      if (e.ok && SWITCH_ACTIONS.has(e.command.action) && e.command.payload.dryRun !== true) {
        switched = true
        break read
      }
      // Each entry names the one logged before it: the first must follow `after`.
      if (cursor === after && e.prev !== null && e.prev !== after) gap = true
      cursor = e.id
      if (e.ok && ENGINE_ACTIONS.has(e.command.action)) {
        if (Number.isNaN(e.simTime) || e.simTime > upTo) break read
        skipTo(engine, e.simTime)
        applyCommand(e.command, { clock: scratch, engine, state: () => ({}) }, 0)
        applied++
      }
      lastId = e.id
    }
    if (page.length < PAGE) break
  }
  skipTo(engine, upTo)
  return { applied, lastId, gap, switched }
}

/**
 * Applies the whole control log's engine commands again, each at its
 * simulation time, then advances to `upTo`; nothing is published. Returns how
 * many were applied.
 */
export async function replayControlLog(
  redis: Redis,
  keys: WorldKeys,
  engine: Engine,
  upTo: number,
): Promise<number> {
  return (await replayControlLogAfter(redis, keys, engine, upTo, '0-0')).applied
}

export type RestoredRun =
  | {
      ok: true
      engine: Engine
      /** Simulation time to go live from (the clock's start). */
      resumeAt: number
      /** Newest control-log entry the engine has applied (the loop's snapshot position). */
      controlLogId: string
      /** Where the engine came from: the run's snapshot, or (older runs) its whole control log. */
      from: 'snapshot' | 'control-log'
      /** Commands applied from the control log. */
      commands: number
      /** Simulation time of the snapshot restored. */
      snapshotAt: number | null
      /** The control log lost commands after the snapshot's position (trimmed): the continuation may differ. */
      gap: boolean
    }
  | { ok: false; reason: string }

/**
 * Rebuilds the engine of `previous` (see {@link findPreviousRun}): its latest
 * snapshot restored, plus the control-log commands after it. Refused (ok:
 * false, with the reason) when the snapshot was taken with another config of
 * the world: replaying it would not reproduce the run.
 */
export async function restoreRun(
  redis: Redis,
  keys: WorldKeys,
  opts: { world: World; seed: number; warmupHours: number; previous: PreviousRun },
): Promise<RestoredRun> {
  const { world, seed, warmupHours, previous } = opts
  const snap = await readSnapshot(redis, keys)
  if (
    snap !== null &&
    snap.world === world.id &&
    snap.seed === seed &&
    snap.warmupHours === warmupHours &&
    snap.startedAt === previous.startedAt
  ) {
    if (snap.worldHash !== world.hash) {
      return {
        ok: false,
        reason: `the world config changed since the run began (config hash ${snap.worldHash.slice(0, 12) || '?'}… then, ${world.hash.slice(0, 12)}… now)`,
      }
    }
    let engine: Engine
    try {
      engine = restoreEngine(world, snap.engine)
    } catch (err) {
      return { ok: false, reason: `its snapshot cannot be restored: ${(err as Error).message}` }
    }
    const resumeAt = Math.max(previous.resumeAt, snap.simTime)
    const { applied, lastId, gap, switched } = await replayControlLogAfter(
      redis,
      keys,
      engine,
      resumeAt,
      snap.logId,
    )
    if (switched) return { ok: false, reason: SWITCHED }
    return {
      ok: true,
      engine,
      resumeAt,
      controlLogId: lastId,
      from: 'snapshot',
      commands: applied,
      snapshotAt: snap.simTime,
      gap,
    }
  }
  // A run from before snapshots were stored: its whole control log, on a warmed-up engine.
  const { engine } = createWarmEngine({ world, seed, start: previous.startedAt, warmupHours })
  const { applied, lastId, gap, switched } = await replayControlLogAfter(
    redis,
    keys,
    engine,
    previous.resumeAt,
    '0-0',
  )
  if (switched) return { ok: false, reason: SWITCHED }
  return {
    ok: true,
    engine,
    resumeAt: previous.resumeAt,
    controlLogId: lastId,
    from: 'control-log',
    commands: applied,
    snapshotAt: null,
    gap,
  }
}
