/**
 * The run's latest engine snapshot in Redis (DESIGN.md "Snapshots make time a
 * dimension": a restart restores the latest snapshot plus the commands after
 * it). Beside the engine's bytes it keeps what a restart checks before trusting
 * them: the run they belong to, the world's config hash, and the control-log id
 * up to which the engine has applied the log.
 */
import type { Redis } from 'ioredis'
import type { WorldKeys } from './keys.js'

export interface StoredSnapshot {
  /** `engine.snapshot()`'s bytes. */
  engine: Uint8Array
  /** Newest control-log entry the engine has applied (`'0-0'`: none); a restart applies those after it. */
  logId: string
  /** SHA-256 of the world's config the engine ran (`World.hash`). */
  worldHash: string
  world: string
  seed: number
  warmupHours: number
  /** Simulation start of the run (epoch ms). */
  startedAt: number
  /** Simulation time the engine had reached (epoch ms). */
  simTime: number
  /** Wall time it was taken (epoch ms). */
  takenAt: number
}

/** Replaces the stored snapshot (one HSET: readers never see half of one). */
export async function writeSnapshot(
  redis: Redis,
  keys: WorldKeys,
  s: StoredSnapshot,
): Promise<void> {
  await redis.hset(keys.snapshot, {
    engine: Buffer.from(s.engine.buffer, s.engine.byteOffset, s.engine.byteLength),
    logId: s.logId,
    worldHash: s.worldHash,
    world: s.world,
    seed: String(s.seed),
    warmupHours: String(s.warmupHours),
    startedAt: String(s.startedAt),
    simTime: String(s.simTime),
    takenAt: String(s.takenAt),
  })
}

/** The stored snapshot, or null when there is none (or it is incomplete). */
export async function readSnapshot(redis: Redis, keys: WorldKeys): Promise<StoredSnapshot | null> {
  const h = await redis.hgetallBuffer(keys.snapshot)
  const str = (k: string) => h[k]?.toString('utf8')
  const num = (k: string) => Number(str(k) ?? NaN)
  const s = {
    engine: h.engine === undefined ? undefined : new Uint8Array(h.engine),
    logId: str('logId'),
    worldHash: str('worldHash'),
    world: str('world'),
    seed: num('seed'),
    warmupHours: num('warmupHours'),
    startedAt: num('startedAt'),
    simTime: num('simTime'),
    takenAt: num('takenAt'),
  }
  for (const v of Object.values(s)) {
    if (v === undefined || (typeof v === 'number' && Number.isNaN(v))) return null
  }
  return s as StoredSnapshot
}
