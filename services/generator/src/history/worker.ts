/**
 * BullMQ sandboxed processor (a worker thread) for history regenerations: the
 * generation is CPU work of a few hundred milliseconds to seconds, so it runs off
 * the generator's event loop, reports progress per stream through the job, and
 * writes the new version's document to Redis itself.
 */
import type { SandboxedJob } from 'bullmq'
import { Redis } from 'ioredis'
import { HistoryModel, loadWorld, planBaselineEvents, type HistoryModification } from '@verisim/sim'
import { worldModule } from '@verisim/worlds'
import { seriesDoc, type RegenerationJob, type RegenerationResult } from './doc.js'

export default async function regenerate(
  job: SandboxedJob<RegenerationJob, RegenerationResult>,
): Promise<RegenerationResult> {
  const t0 = performance.now()
  const d = job.data
  const world = loadWorld(d.worldDir, worldModule(d.world))
  const model = new HistoryModel({ world, seed: d.seed, start: d.start, origin: d.origin })
  const base = planBaselineEvents(world, d.seed, model.from, d.start).mods
  const mods = d.mods as HistoryModification[]
  let last = -1
  const g = model.generate([...base, ...mods], {
    onProgress: (done, total) => {
      const pct = Math.floor((done / total) * 95)
      if (pct >= last + 5) {
        last = pct
        void job.updateProgress(pct)
      }
    },
  })
  const redis = new Redis(d.redisUrl, { maxRetriesPerRequest: 3 })
  try {
    await redis.set(d.docKey, seriesDoc(d.version, g.series))
  } finally {
    redis.disconnect()
  }
  await job.updateProgress(100)
  return {
    version: d.version,
    window: model.affectedWindow(mods),
    ms: Math.round(performance.now() - t0),
  }
}
