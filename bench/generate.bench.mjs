/**
 * `verisim generate` throughput and memory, each measurement in a fresh process
 * on one Node thread, as `pnpm bench engine` measures the engine
 * (VERISIM_BENCH_PIN=1 pins it to core 0 with taskset, GC threads included):
 *
 * - 30 simulated tutoring days to NDJSON on disk (with the ground truth and the
 *   SHA-256 checksums, as the command does by default). Target ≥ 250,000
 *   events/s written: the events over the time the command spends on the span
 *   it writes (its summary line's split; the world's 240-hour warm-up before
 *   --start, computed and not written, is reported apart, and so is the whole
 *   command's rate); peak RSS reported;
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
import { GENERATE_NODE_FLAGS } from '@verisim/cli'
import { runJsonChild } from './child.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const DAYS = Number(process.env.VERISIM_BENCH_GENERATE_DAYS ?? 30)
/** VERISIM_BENCH_PIN=1 pins each measurement to core 0 (GC helper threads then share it too). */
const pin =
  process.env.VERISIM_BENCH_PIN === '1' && spawnSync('taskset', ['-c', '0', 'true']).status === 0

function measure(format, days, dir) {
  // the node flags `verisim generate` runs with (packages/cli/src/lib/heap.ts), for every measurement
  const args = [
    ...GENERATE_NODE_FLAGS,
    join(here, 'generate-measure.mjs'),
    format,
    String(days),
    dir,
  ]
  return runJsonChild(args, {
    cwd: here,
    wrap: pin ? ['taskset', '-c', '0'] : [],
  })
}

/** Events per second of the span written (the command's own split: after the warm-up). */
const rate = (r) => (r.events / r.writtenMs) * 1000
/** Events per second of the whole command: start-up and the world's warm-up included. */
const overall = (r) => (r.events / r.ms) * 1000
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`

export default async function run(ctx) {
  const dir = mkdtempSync(join(tmpdir(), 'verisim-bench-generate-'))
  const rows = []
  const one = pin ? 'pinned to one core (taskset -c 0)' : 'one Node thread, as pnpm bench engine'
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
    const n = (x) => x.toLocaleString('en-US')
    rows.push(
      {
        name: `engine alone, ${DAYS} days (reference)`,
        value: rate(engine),
        unit: 'events/s',
        note: `${n(engine.events)} events in ${secs(engine.writtenMs)} after a warm-up of ${secs(engine.warmupMs)}; ${one}`,
      },
      {
        name: `generate NDJSON, ${DAYS} days to disk`,
        value: rate(nd),
        unit: 'events/s',
        target: '≥ 250,000',
        note: `${n(nd.events)} events, ${(nd.bytes / 1e9).toFixed(2)} GB written in ${secs(nd.writtenMs)} after a warm-up of ${secs(nd.warmupMs)}`,
      },
      {
        name: `generate NDJSON, ${DAYS} days, whole command`,
        value: overall(nd),
        unit: 'events/s',
        note: `${secs(nd.ms)} (CPU ${secs(nd.cpuMs)}) with start-up and the world's 240-hour warm-up`,
      },
      {
        name: `generate NDJSON ÷ engine alone, ${DAYS} days`,
        value: rate(nd) / rate(engine),
        unit: '×',
      },
      { name: `generate NDJSON, ${DAYS} days: peak RSS`, value: nd.maxRssMb, unit: 'MB' },
      {
        name: 'generate NDJSON, 3 days: peak RSS',
        value: nd3.maxRssMb,
        unit: 'MB',
        note: `flat memory: ${DAYS} days ÷ 3 days = ${(nd.maxRssMb / nd3.maxRssMb).toFixed(2)}`,
      },
      { name: 'generate NDJSON, 3 days', value: rate(nd3), unit: 'events/s' },
      {
        name: 'generate Parquet, 3 days to disk',
        value: rate(pq),
        unit: 'events/s',
        target: '≥ 100,000',
        note: `${(pq.bytes / 1e6).toFixed(0)} MB written in ${secs(pq.writtenMs)}; peak RSS ${pq.maxRssMb.toFixed(0)} MB`,
      },
      {
        name: 'generate CSV, 3 days to disk',
        value: rate(csv),
        unit: 'events/s',
        note: `${(csv.bytes / 1e6).toFixed(0)} MB written in ${secs(csv.writtenMs)}; peak RSS ${csv.maxRssMb.toFixed(0)} MB`,
      },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}
