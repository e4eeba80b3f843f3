/**
 * `verisim generate` throughput and memory, each measurement in a fresh process
 * pinned to one core (`taskset -c 0` where it exists):
 *
 * - 30 simulated tutoring days to NDJSON on disk (with the ground truth and the
 *   SHA-256 checksums, as the command does by default). Target ≥ 250,000
 *   events/s over the whole command (start-up and the world's 10-day warm-up
 *   included), peak RSS reported;
 * - 3 days to NDJSON: the same peak RSS as 30 days shows memory is flat;
 * - 3 days to Parquet. Target ≥ 100,000 events/s;
 * - 3 days to CSV;
 * - side by side, the engine alone over the same 30 days (warm-up included,
 *   events dropped): the ceiling the command's output costs are taken from.
 *
 * Files go to a temporary folder, removed afterwards (30 days of NDJSON is about
 * 6 GB). Env VERISIM_BENCH_GENERATE_DAYS (default 30) shortens the long run.
 * Run with `pnpm bench generate`.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runJsonChild } from './child.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const DAYS = Number(process.env.VERISIM_BENCH_GENERATE_DAYS ?? 30)
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0

function measure(format, days, dir) {
  return runJsonChild([join(here, 'generate-measure.mjs'), format, String(days), dir], {
    cwd: here,
    wrap: hasTaskset ? ['taskset', '-c', '0'] : [],
  })
}

const rate = (r) => (r.events / r.ms) * 1000

export default async function run(ctx) {
  const dir = mkdtempSync(join(tmpdir(), 'verisim-bench-generate-'))
  const rows = []
  const one = hasTaskset ? 'one core (taskset -c 0)' : 'one Node thread (no taskset here)'
  try {
    ctx.log(`engine alone, ${DAYS} days`)
    const engine = await measure('engine', DAYS, dir)
    ctx.log(`NDJSON, ${DAYS} days`)
    const nd = await measure('ndjson', DAYS, dir)
    rmSync(join(dir, 'run.ndjson'), { force: true })
    ctx.log('NDJSON, 3 days')
    const nd3 = await measure('ndjson', 3, dir)
    ctx.log('Parquet, 3 days')
    const pq = await measure('parquet', 3, dir)
    ctx.log('CSV, 3 days')
    const csv = await measure('csv', 3, dir)
    rows.push(
      {
        name: `engine alone, ${DAYS} days (reference)`,
        value: rate(engine),
        unit: 'events/s',
        note: `${engine.events.toLocaleString('en-US')} events in ${(engine.ms / 1000).toFixed(1)} s, ${one}`,
      },
      {
        name: `generate NDJSON, ${DAYS} days to disk`,
        value: rate(nd),
        unit: 'events/s',
        target: '≥ 250,000',
        note: `${nd.events.toLocaleString('en-US')} events, ${(nd.bytes / 1e9).toFixed(2)} GB in ${(nd.ms / 1000).toFixed(1)} s (CPU ${(nd.cpuMs / 1000).toFixed(1)} s), ${one}`,
      },
      {
        name: `generate NDJSON, ${DAYS} days: share of the engine's rate`,
        value: rate(nd) / rate(engine),
        unit: '×',
      },
      { name: `generate NDJSON, ${DAYS} days: peak RSS`, value: nd.maxRssMb, unit: 'MB' },
      {
        name: 'generate NDJSON, 3 days: peak RSS',
        value: nd3.maxRssMb,
        unit: 'MB',
        note: `flat memory: ${DAYS} days peak ÷ 3 days peak = ${(nd.maxRssMb / nd3.maxRssMb).toFixed(2)}`,
      },
      { name: 'generate NDJSON, 3 days', value: rate(nd3), unit: 'events/s' },
      {
        name: 'generate Parquet, 3 days to disk',
        value: rate(pq),
        unit: 'events/s',
        target: '≥ 100,000',
        note: `${(pq.bytes / 1e6).toFixed(0)} MB, peak RSS ${pq.maxRssMb.toFixed(0)} MB`,
      },
      {
        name: 'generate CSV, 3 days to disk',
        value: rate(csv),
        unit: 'events/s',
        note: `${(csv.bytes / 1e6).toFixed(0)} MB, peak RSS ${csv.maxRssMb.toFixed(0)} MB`,
      },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}
