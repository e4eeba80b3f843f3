/**
 * Continuing a run after a generator restart (DESIGN.md "Determinism is the
 * spine"): the same world, seed and warm-up rebuild the engine from the run's
 * start, the control log's engine commands are applied again at the simulation
 * times they took effect, and everything up to the last published event is
 * regenerated without being published. The scenario in progress, its external
 * events and its pending BullMQ transition (same runId) carry on.
 */
import type { Redis } from 'ioredis'
import { entryToRawEvent, lastStoredId, type WorldKeys } from '@verisim/bus'
import {
  SpecialChannel,
  type AnyControlAction,
  type ControlCommand,
  type StreamInfo,
} from '@verisim/schema'
import type { Engine } from '@verisim/sim'
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
 * Applies the control log's engine commands again, each at its simulation time,
 * then advances to `upTo`; nothing is published. Returns how many were applied.
 */
export async function replayControlLog(
  redis: Redis,
  keys: WorldKeys,
  engine: Engine,
  upTo: number,
): Promise<number> {
  const entries = await redis.xrange(keys.controlLog, '-', '+')
  const scratch = new SimClock({ start: engine.now, speed: 1, wallNow: 0 })
  let applied = 0
  for (const [, f] of entries) {
    const get = (k: string) => f[f.indexOf(k) + 1] ?? ''
    const action = get('a') as AnyControlAction
    if (get('ok') !== '1' || !ENGINE_ACTIONS.has(action)) continue
    const at = Date.parse(get('sim'))
    if (Number.isNaN(at) || at > upTo) break
    if (at > engine.now) engine.advance(at)
    const cmd: ControlCommand = {
      requestId: get('r'),
      action,
      payload: JSON.parse(get('p') || '{}'),
    }
    applyCommand(cmd, { clock: scratch, engine, state: () => ({}) }, 0)
    applied++
  }
  if (upTo > engine.now) engine.advance(upTo)
  return applied
}
