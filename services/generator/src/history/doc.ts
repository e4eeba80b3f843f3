/**
 * What the generator stores in Redis for the gateway to serve history from
 * (packages/bus/src/history/reader.ts reads it): a generated series as a JSON document.
 */
import type { HistorySeries } from '@verisim/sim'

/** `hist:v:<N>`: 15-minute buckets of every stream from `from`. */
export function seriesDoc(version: number, series: HistorySeries): string {
  const streams: Record<string, { count: number[]; mean: (number | null)[] }> = {}
  series.streams.forEach((name, s) => {
    const mean = series.mean[s]!
    streams[name] = {
      count: Array.from(series.count[s]!),
      mean: Array.from(mean, (x) => (Number.isNaN(x) ? null : x)),
    }
  })
  return JSON.stringify({
    version,
    from: series.from,
    bucketMs: series.bucketMs,
    n: series.n,
    streams,
  })
}

/** The job a regeneration runs (BullMQ `verisim-history`). */
export interface RegenerationJob {
  version: number
  description: string
  /** Everything to apply on top of the baseline (all modifications since the last reset). */
  mods: unknown[]
  world: string
  worldDir: string
  seed: number
  start: number
  origin: number
  redisUrl: string
  /** Key the document is written to. */
  docKey: string
}

export interface RegenerationResult {
  version: number
  window: { start: number; end: number } | null
  ms: number
}
