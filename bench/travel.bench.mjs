/**
 * Time travel over a 30-day run (issue 19: travel to any moment, p95 ≤ 2 s).
 * Runs each world 30 simulated days with a RunTimeline taking a state snapshot
 * every 3 simulated hours (thinned as they age: all of the last day, one per
 * 12 h for a week, one a day beyond), then travels to 40 moments drawn
 * uniformly over the run (fixed seed) and reports the travel time's
 * percentiles, the snapshots' cost (time to take, size, what the timeline
 * keeps) and, for comparison, a restore of the latest snapshot.
 */
import { DAY, HOUR, RunTimeline, createEngine, createRng, restoreEngine } from '@verisim/sim'
import { loadWorldById } from '@verisim/worlds'

const DAYS = Number(process.env.VERISIM_BENCH_TRAVEL_DAYS ?? 30)
const EVERY = 3 * HOUR
const TRAVELS = 40
const START = Date.parse('2026-03-02T00:00:00Z')

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

async function measure(ctx, id) {
  const world = loadWorldById(id)
  const engine = createEngine({ world, seed: 42, start: START })
  const takes = []
  const t0 = performance.now()
  const timeline = new RunTimeline(world, engine, { everyMs: EVERY })
  let taken = 1
  let biggest = 0
  while (engine.now < START + DAYS * DAY) {
    engine.advance(engine.now + HOUR)
    const s = performance.now()
    if (timeline.checkpoint()) {
      takes.push(performance.now() - s)
      taken++
      biggest = Math.max(biggest, timeline.entries.at(-1).bytes.byteLength)
    }
    if (engine.now % DAY === 0) ctx.log(`${id}: day ${(engine.now - START) / DAY} of ${DAYS}`)
  }
  const runMs = performance.now() - t0
  const rng = createRng(7, 'travel-bench')
  const times = []
  const resim = []
  for (let i = 0; i < TRAVELS; i++) {
    const target = Math.floor(START + rng.next() * (engine.now - START))
    const s = performance.now()
    const r = timeline.travel(target)
    times.push(performance.now() - s)
    resim.push((target - r.from) / HOUR)
  }
  const latest = timeline.entries.at(-1).bytes
  const s = performance.now()
  restoreEngine(world, latest)
  const restoreMs = performance.now() - s
  const kept = timeline.entries.length
  const held = timeline.byteLength
  // The running generator's switch (time-machine.ts): save where the timeline is
  // left, travel the live engine in place to the target's 15-minute bucket, on to
  // the target (the bucket's events recounted), and drop the abandoned line's
  // snapshots. Five switches, each further back than the last.
  const switches = []
  for (let k = 1; k <= 5; k++) {
    const target = Math.floor(engine.now - (k * (engine.now - START)) / 6) + 12_345
    const s = performance.now()
    engine.snapshot()
    timeline.travel(Math.floor(target / (15 * 60_000)) * 15 * 60_000, engine)
    engine.advance(target)
    timeline.rebase()
    switches.push(performance.now() - s)
  }
  const note = `${DAYS} simulated days, snapshot every ${EVERY / HOUR} h`
  return [
    { name: `${id}: travel p50`, value: pct(times, 0.5), unit: 'ms', note },
    { name: `${id}: travel p95`, value: pct(times, 0.95), unit: 'ms', target: '≤ 2,000', note },
    { name: `${id}: travel max`, value: Math.max(...times), unit: 'ms' },
    {
      name: `${id}: re-simulated per travel (p95)`,
      value: pct(resim, 0.95),
      unit: 'sim h',
      note: 'from the nearest snapshot at or before the target',
    },
    {
      name: `${id}: snapshot take (mean)`,
      value: takes.reduce((a, b) => a + b, 0) / takes.length,
      unit: 'ms',
    },
    { name: `${id}: snapshot size (largest)`, value: biggest / 1e6, unit: 'MB', note: 'gzipped' },
    {
      name: `${id}: snapshots kept`,
      value: kept,
      unit: '',
      note: `of ${taken} taken; ${(held / 1e6).toFixed(1)} MB held`,
    },
    { name: `${id}: restore latest snapshot`, value: restoreMs, unit: 'ms' },
    {
      name: `${id}: generator switch (max of 5)`,
      value: Math.max(...switches),
      unit: 'ms',
      note: 'save the line left + travel in place + rebase (Redis writes not included)',
    },
    { name: `${id}: run with snapshots`, value: runMs / 1000, unit: 's' },
  ]
}

export default async function run(ctx) {
  const rows = []
  for (const id of ['tutoring', 'example']) rows.push(...(await measure(ctx, id)))
  return rows
}
