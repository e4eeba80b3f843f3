/**
 * The detection scorecard (docs/SIGNAL.md, @verisim/sim/scorecard): the nine
 * tutoring scenarios on seeds 42, 7 and 1234, each against the same seed's
 * baseline, scored for a naive detector on the `anomalies` topic. Prints a table
 * per scenario and seed, writes the full scorecard to bench/results/scorecard.json,
 * and returns the summary rows (recall, precision, time to first flag, baseline
 * flag shares) for the bench table.
 *
 * Run with `pnpm bench score`, or alone: `node bench/score.bench.mjs`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { runScorecard } from '@verisim/sim/scorecard'
import { loadWorldById } from '@verisim/worlds'

const here = dirname(fileURLToPath(import.meta.url))
const SEEDS = [42, 7, 1234]
/** Monday 24 February 2025: no academic-calendar period for the next five weeks. */
const START = Date.UTC(2025, 1, 24)

const pct = (x) => (x === null ? '—' : `${(x * 100).toFixed(0)} %`)

export default async function run(ctx) {
  const world = loadWorldById('tutoring')
  const t0 = Date.now()
  const card = runScorecard({ world, seeds: SEEDS, start: START, onProgress: ctx.log })
  const seconds = (Date.now() - t0) / 1000
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results', 'scorecard.json'), JSON.stringify(card, null, 2) + '\n')
  console.table(
    card.scores.map((s) => ({
      scenario: s.scenario,
      seed: s.seed,
      primary: s.primary.join(', ') || '(none within 30 min)',
      recall: pct(s.recall),
      precision: pct(s.precision),
      'first flag (min)': s.timeToFirstFlagMin ?? '—',
      alarms: s.alarms,
      'baseline alarms': s.baselineAlarms,
    })),
  )
  // per scenario, over the seeds
  const byScenario = new Map()
  for (const s of card.scores) {
    const x = byScenario.get(s.scenario) ?? {
      primary: 0,
      detected: 0,
      alarms: 0,
      trueAlarms: 0,
      first: [],
    }
    x.primary += s.primary.length
    x.detected += s.detected.length
    x.alarms += s.alarms
    x.trueAlarms += s.trueAlarms
    if (s.timeToFirstFlagMin !== null) x.first.push(s.timeToFirstFlagMin)
    byScenario.set(s.scenario, x)
  }
  console.table(
    [...byScenario].map(([scenario, x]) => ({
      scenario,
      seeds: card.seeds.length,
      'primary streams': x.primary,
      recall: x.primary > 0 ? pct(x.detected / x.primary) : '—',
      precision: x.alarms > 0 ? pct(x.trueAlarms / x.alarms) : '—',
      'worst first flag (min)': x.first.length > 0 ? Math.max(...x.first) : '—',
    })),
  )
  const scored = card.scores.filter((s) => s.recall !== null)
  const primary = scored.reduce((a, s) => a + s.primary.length, 0)
  const detected = scored.reduce((a, s) => a + s.detected.length, 0)
  const alarms = card.scores.reduce((a, s) => a + s.alarms, 0)
  const trueAlarms = card.scores.reduce((a, s) => a + s.trueAlarms, 0)
  const firsts = scored.map((s) => s.timeToFirstFlagMin).filter((x) => x !== null)
  const normal = card.scores.filter((s) => s.scenario === 'normal-operations')
  const rows = [
    {
      name: 'recall (primary streams within 30 min)',
      value: detected / primary,
      unit: '',
      target: '≥ 0.9',
    },
    {
      name: 'precision (true alarms / alarms)',
      value: trueAlarms / alarms,
      unit: '',
      target: '≥ 0.8',
    },
    {
      name: 'worst time to first flag',
      value: Math.max(...firsts),
      unit: 'sim-min',
      target: '≤ 30',
    },
    {
      name: 'normal-operations alarms vs baseline',
      value: normal.reduce((a, s) => a + s.alarms, 0),
      unit: 'alarms',
      target: `≤ ${normal.reduce((a, s) => a + s.baselineAlarms, 0)} (baseline)`,
    },
    {
      name: 'baseline events flagged warning',
      value: card.baseline.warningShare * 100,
      unit: '%',
      target: '≤ 2',
    },
    {
      name: 'baseline events flagged critical',
      value: card.baseline.criticalShare * 100,
      unit: '%',
      target: '≤ 0.2',
    },
    {
      name: 'scenarios without a primary stream',
      value: card.scores.filter((s) => s.recall === null && s.scenario !== 'normal-operations')
        .length,
      unit: 'runs',
      note: [
        ...new Set(
          card.scores
            .filter((s) => s.recall === null && s.scenario !== 'normal-operations')
            .map((s) => s.scenario),
        ),
      ].join(', '),
    },
    { name: 'scorecard runtime', value: seconds, unit: 's' },
  ]
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await run({ log: (m) => process.stderr.write(`  … ${m}\n`) })
  console.table(rows)
}
