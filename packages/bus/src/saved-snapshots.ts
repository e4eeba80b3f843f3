/**
 * Saved snapshots and timelines (issue 19, DESIGN.md "Snapshots make time a
 * dimension"), in Redis beside the world's streams: each snapshot's engine
 * bytes under a key of its own and its description in one hash, so listing
 * never reads the bytes; and the run's timelines, the current one and those a
 * restore or a travel left behind, with the commands each one had.
 */
import type { Redis } from 'ioredis'
import type {
  SavedSnapshotKind,
  SavedSnapshotMeta,
  TimelineCommand,
  TimelineRecord,
} from '@verisim/schema'
import type { WorldKeys } from './keys.js'

export type { SavedSnapshotKind, SavedSnapshotMeta, TimelineCommand, TimelineRecord }

/**
 * Stores a snapshot under the next id and returns its description. Throws
 * when `max` are stored already (the caller names the limit and what to do).
 */
export async function saveSnapshot(
  redis: Redis,
  keys: WorldKeys,
  meta: Omit<SavedSnapshotMeta, 'id' | 'sizeBytes'>,
  bytes: Uint8Array,
): Promise<SavedSnapshotMeta> {
  const n = await redis.incr(keys.savedSnapshotSeq)
  const full: SavedSnapshotMeta = { ...meta, id: `snap_${n}`, sizeBytes: bytes.byteLength }
  await redis
    .multi()
    .set(keys.savedSnapshot(full.id), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    .hset(keys.savedSnapshots, full.id, JSON.stringify(full))
    .exec()
  return full
}

/** Every saved snapshot's description, oldest id first. */
export async function listSavedSnapshots(
  redis: Redis,
  keys: WorldKeys,
): Promise<SavedSnapshotMeta[]> {
  const all = await redis.hvals(keys.savedSnapshots)
  return all
    .map((v) => JSON.parse(v) as SavedSnapshotMeta)
    .sort((a, b) => Number(a.id.slice(5)) - Number(b.id.slice(5)))
}

/** One saved snapshot with its bytes, or null when there is none with that id. */
export async function readSavedSnapshot(
  redis: Redis,
  keys: WorldKeys,
  id: string,
): Promise<{ meta: SavedSnapshotMeta; bytes: Uint8Array } | null> {
  const [meta, bytes] = await Promise.all([
    redis.hget(keys.savedSnapshots, id),
    redis.getBuffer(keys.savedSnapshot(id)),
  ])
  if (meta === null || bytes === null) return null
  return { meta: JSON.parse(meta) as SavedSnapshotMeta, bytes: new Uint8Array(bytes) }
}

/** Deletes a saved snapshot; false when there was none with that id. */
export async function deleteSavedSnapshot(
  redis: Redis,
  keys: WorldKeys,
  id: string,
): Promise<boolean> {
  const res = await redis.multi().hdel(keys.savedSnapshots, id).del(keys.savedSnapshot(id)).exec()
  return Number(res?.[0]?.[1] ?? 0) > 0
}

/** Deletes every saved snapshot and timeline (a new run begins). */
export async function clearSavedSnapshots(redis: Redis, keys: WorldKeys): Promise<void> {
  const ids = await redis.hkeys(keys.savedSnapshots)
  const m = redis.multi()
  for (const id of ids) m.del(keys.savedSnapshot(id))
  await m.del(keys.savedSnapshots, keys.savedSnapshotSeq, keys.timelines).exec()
}

/** Stores (or replaces) a timeline's record. */
export async function writeTimeline(
  redis: Redis,
  keys: WorldKeys,
  t: TimelineRecord,
): Promise<void> {
  await redis.hset(keys.timelines, t.id, JSON.stringify(t))
}

/** The run's timelines, in order of `number`. */
export async function listTimelines(redis: Redis, keys: WorldKeys): Promise<TimelineRecord[]> {
  const all = await redis.hvals(keys.timelines)
  return all.map((v) => JSON.parse(v) as TimelineRecord).sort((a, b) => a.number - b.number)
}
