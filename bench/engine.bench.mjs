/**
 * Engine throughput: events per second generating 30 simulated days of the whole
 * tutoring world on one core (one Node thread, advance() in 1-hour steps, events
 * counted and dropped), after a 2-day warm-up in the same process. Target:
 * ≥ 500,000 events/s.
 *
 * Side by side with the pre-refactor engine (commit 093a1c4, before the world kit
 * moved the tutoring world out of packages/sim): target ≥ 0.95× its events/s.
 * That commit's engine is built here (bench/baseline-build.mjs: `git archive` into
 * a temporary folder, this repository's tsc and installed typebox, no network) and
 * cached in node_modules/.cache/verisim-bench/<commit>/, so only the first run pays
 * for the build (about 30 s). Each measurement runs in a fresh process
 * (bench/engine-measure.mjs), taking turns: baseline, current, baseline, current…,
 * VERISIM_BENCH_ENGINE_ROUNDS rounds (default 3); the figures are medians. Both
 * must generate the same number of events (the refactor is output-identical).
 * A baseline that cannot be built or run is reported in its rows; today's engine
 * is measured anyway. Total about 6 × 35 s on an idle machine.
 *
 * Env: VERISIM_BENCH_ENGINE_ROUNDS (default 3), VERISIM_BENCH_ENGINE_BASELINE (a
 * commit, default 093a1c4; `none` skips the comparison).
 *
 * Run with `pnpm bench engine`, or alone: `node bench/engine.bench.mjs`.
 */
import { runJsonChild } from './child.mjs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ensureBaseline } from './baseline-build.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const DAYS = 30
const WARMUP_DAYS = 2
const ROUNDS = Number(process.env.VERISIM_BENCH_ENGINE_ROUNDS ?? 3)
const BASELINE = process.env.VERISIM_BENCH_ENGINE_BASELINE ?? '093a1c4'
const TARGET = 500_000
const RATIO_TARGET = 0.95

/** One measurement in a fresh Node process (bench/engine-measure.mjs). */
function measure(args) {
  return runJsonChild(
    [
      join(here, 'engine-measure.mjs'),
      args[0],
      String(DAYS),
      String(WARMUP_DAYS),
      ...args.slice(1),
    ],
    { cwd: here },
  )
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const perSecond = (r) => (r.events / r.ms) * 1000
const perCpuSecond = (r) => (r.events / r.cpuMs) * 1000
const fmt = (v) => Math.round(v).toLocaleString('en-US')

export default async function run(ctx) {
  if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1))
    throw new Error(`VERISIM_BENCH_ENGINE_ROUNDS must be a whole number ≥ 1, got ${ROUNDS}`)

  // The pre-refactor engine: built once, then from the cache.
  let baseline = null
  let baselineError = BASELINE === 'none' ? 'skipped (VERISIM_BENCH_ENGINE_BASELINE=none)' : null
  const short = BASELINE.slice(0, 7)
  if (!baselineError) {
    const b0 = Date.now()
    try {
      baseline = await ensureBaseline({ commit: BASELINE, log: ctx.log })
      ctx.log(
        baseline.cached
          ? `baseline ${short}: cached in ${baseline.dir} (built ${baseline.builtAt} in ${(baseline.buildMs / 1000).toFixed(1)} s)`
          : `baseline ${short}: built in ${(baseline.buildMs / 1000).toFixed(1)} s, cached in ${baseline.dir}`,
      )
    } catch (err) {
      baselineError = `baseline build failed: ${err?.message ?? err}`
      ctx.log(`${baselineError} (after ${((Date.now() - b0) / 1000).toFixed(1)} s)`)
    }
  }

  // Taking turns, each in a fresh process: baseline, current, baseline, current…
  const current = []
  const base = []
  for (let round = 1; round <= ROUNDS; round++) {
    if (baseline && !baselineError) {
      try {
        const r = await measure(['baseline', baseline.simEntry, baseline.worldDir])
        base.push(r)
        ctx.log(
          `round ${round}/${ROUNDS} ${short}:   ${fmt(perSecond(r))} events/s (${fmt(r.events)} events in ${(r.ms / 1000).toFixed(1)} s)`,
        )
      } catch (err) {
        baselineError = `baseline run failed: ${err.message}`
        ctx.log(baselineError)
      }
    }
    const r = await measure(['current'])
    current.push(r)
    ctx.log(
      `round ${round}/${ROUNDS} current:   ${fmt(perSecond(r))} events/s (${fmt(r.events)} events in ${(r.ms / 1000).toFixed(1)} s)`,
    )
  }

  // Same output: every run of either engine generates the same events.
  const counts = new Set(current.map((r) => r.events))
  const baseCounts = new Set(base.map((r) => r.events))
  let sameEvents = null // null: no baseline figures to compare
  if (counts.size > 1) sameEvents = `MISMATCH: current runs differ (${[...counts].join(', ')})`
  else if (base.length > 0)
    sameEvents =
      baseCounts.size === 1 && baseCounts.has(current[0].events)
        ? `same for ${short}`
        : `MISMATCH: ${short} generated ${[...baseCounts].map(fmt).join(', ')}`
  if (sameEvents?.startsWith('MISMATCH')) ctx.log(sameEvents)

  const cur = {
    eps: median(current.map(perSecond)),
    cpu: median(current.map(perCpuSecond)),
    ms: median(current.map((r) => r.ms)),
  }
  const runs = `median of ${current.length} runs`
  const rows = [
    {
      name: 'engine events/s (30 simulated days, whole world, 1 core)',
      value: cur.eps,
      unit: 'events/s',
      target: `>= ${TARGET}`,
      note: `${cur.eps >= TARGET ? 'meets target' : 'BELOW TARGET'}; ${runs}`,
    },
    {
      name: 'engine events per CPU second',
      value: cur.cpu,
      unit: 'events/s',
      note: `same runs, by process CPU time: steadier than wall time on a busy machine; ${runs}`,
    },
  ]

  const failedNote = baselineError ?? 'no baseline figures'
  if (base.length > 0 && !baselineError) {
    const b = { eps: median(base.map(perSecond)), cpu: median(base.map(perCpuSecond)) }
    const ratio = cur.eps / b.eps
    const cpuRatio = cur.cpu / b.cpu
    const pairs = base.map((r, i) => perSecond(current[i]) / perSecond(r))
    const verdict = sameEvents.startsWith('MISMATCH')
      ? `FAILED: ${sameEvents}`
      : ratio >= RATIO_TARGET
        ? 'meets target'
        : 'BELOW TARGET'
    rows.push(
      {
        name: `pre-refactor engine events/s (${short})`,
        value: b.eps,
        unit: 'events/s',
        note: `median of ${base.length} runs, taking turns with the current engine`,
      },
      {
        name: `pre-refactor engine events per CPU second (${short})`,
        value: b.cpu,
        unit: 'events/s',
      },
      {
        name: `engine vs pre-refactor events/s (current / ${short})`,
        value: ratio,
        unit: '×',
        target: `>= ${RATIO_TARGET}`,
        note:
          `${verdict}; by CPU time ${cpuRatio.toFixed(3)}×; ` +
          `per round ${pairs.map((p) => p.toFixed(3)).join(', ')}`,
      },
    )
  } else {
    rows.push(
      {
        name: `pre-refactor engine events/s (${short})`,
        value: NaN,
        unit: 'events/s',
        note: failedNote,
      },
      {
        name: `engine vs pre-refactor events/s (current / ${short})`,
        value: NaN,
        unit: '×',
        target: `>= ${RATIO_TARGET}`,
        note: failedNote,
      },
    )
  }

  const { events, pending, streams } = current[0]
  rows.push(
    {
      name: 'engine events generated',
      value: events,
      unit: 'events',
      note: `${streams} streams${sameEvents ? `; ${sameEvents}` : ''}`,
    },
    { name: 'engine wall time', value: cur.ms, unit: 'ms', note: runs },
    {
      name: 'engine mean events per simulated second',
      value: events / (DAYS * 86_400),
      unit: 'events/s (sim)',
      note: 'what speed 1 emits',
    },
    { name: 'engine pending items at end', value: pending, unit: 'items' },
  )
  if (baseline)
    rows.push({
      name: `pre-refactor engine build (${short})`,
      value: baseline.buildMs / 1000,
      unit: 's',
      note: [
        baseline.cached ? `cached, built ${baseline.builtAt}` : 'built in this run',
        ...baseline.notes,
      ].join('; '),
    })
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run({ log: (m) => process.stderr.write(`  … ${m}\n`) })
  for (const r of rows)
    console.log(
      `${r.name}: ${Math.round(r.value * 1000) / 1000} ${r.unit}${r.target ? ` (target ${r.target})` : ''}${r.note ? ` — ${r.note}` : ''}`,
    )
}
