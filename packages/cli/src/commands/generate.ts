/**
 * `verisim generate`: a run's events as files, with the engine alone — no
 * Redis, no services. Deterministic (same arguments → same bytes; checksums
 * written), streamed (flat memory for any duration), with a progress bar on a
 * terminal and a ground-truth file beside the events.
 */
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { dirname, relative } from 'node:path'
import { Option, type Command } from 'commander'
import { CliFailure } from '../errors.js'
import type { Io } from '../io.js'
import { ensureWritableDir, fmtSize, fsReason } from '../lib/files.js'
import { createProgress } from '../lib/progress.js'
import { loadCliWorld } from '../lib/world.js'
import {
  FORMATS,
  generatePlan,
  streamFilter,
  type GenerateFlags,
  type GeneratePlan,
} from '../generate/plan.js'
import { runGeneration } from '../generate/run.js'
import { createSink, type OutFile } from '../generate/sinks.js'

const collect = (v: string, prev: string[] = []) => [...prev, v]

export function registerGenerate(program: Command, io: Io): void {
  program
    .command('generate')
    .description("write a run's events to files with the engine alone (no Redis, no services)")
    .option('--world <name>', 'world (default: $VERISIM_WORLD, else tutoring)')
    .option('--seed <n>', 'integer 0…4294967295 (default: $VERISIM_SEED, else 42)')
    .option(
      '--start <ISO|now>',
      'simulation start (default: the current hour; give it to reproduce a run)',
    )
    .option('--end <ISO>', 'simulation end (exclusive)')
    .option('--duration <d>', 'instead of --end: 90m, 6h, 30d, 1d12h or P30D (default: 1d)')
    .option(
      '--scenario <id@time>',
      'start scenario <id> at <time>: ISO, or +<duration> after --start (repeatable)',
      collect,
    )
    .option(
      '--external <template@time>',
      'inject external event <template> at <time> (repeatable)',
      collect,
    )
    .option(
      '--action <name@time=json>',
      'apply world action <name> with a JSON payload at <time> (repeatable)',
      collect,
    )
    .option(
      '--streams <patterns>',
      'only these streams: names or patterns like session.*, comma-separated (repeatable)',
      collect,
    )
    .addOption(
      new Option(
        '--format <format>',
        "output format (default: from --out's extension, else ndjson)",
      ).choices(FORMATS),
    )
    .option(
      '--out <file|dir|->',
      'output file, folder with --split, or - for standard output (default: -)',
    )
    .option('--split', 'one file per channel in folder --out (<channel>.<ext>)')
    .option('--truth <file>', 'ground-truth file (default: beside --out; none for standard output)')
    .option('--no-truth', 'write no ground-truth file')
    .option(
      '--warmup-hours <n>',
      "hours simulated before --start and not written (default: $VERISIM_WARMUP_HOURS, else the world's)",
    )
    .option(
      '--config-dir <dir>',
      'folder of worlds (default: $VERISIM_CONFIG_DIR, else config/worlds)',
    )
    .addHelpText(
      'after',
      `
Each line (NDJSON) is the live stream's envelope: id, world, stream, channel,
timestamp, data, normalizedValue, anomalyFlag, causes. Ids are "<simulated
ms>-<seq>" (the live stream's come from the wall clock). CSV and Parquet have
one column per envelope field (data as JSON text, causes joined by ";").

Beside the output: <name>.truth.json (scenario and external-event windows and
the streams they moved, for scoring a detector: verisim score) and
<name>.sha256 (or checksums.sha256 in a --split folder; sha256sum -c checks it).

Examples:
  verisim generate --world tutoring --seed 42 --start 2026-03-02T00:00:00Z --duration 30d --out month.ndjson
  verisim generate --start 2026-03-02T00:00:00Z --duration 2d --scenario exam-season-surge@+20h --format csv --out run.csv
  verisim generate --start 2026-03-02T00:00:00Z --duration 7d --split --format parquet --out parquet/
  verisim generate --start 2026-03-02T00:00:00Z --duration 6h --streams 'session.*' | jq .data
`,
    )
    .action(async (flags: GenerateFlags) => {
      const plan = generatePlan(flags, io.env, Date.now(), io.cwd)
      await generate(plan, io)
    })
}

async function generate(plan: GeneratePlan, io: Io): Promise<void> {
  const world = loadCliWorld(plan.world, plan.configDir)
  for (const c of plan.commands)
    if (c.kind === 'scenario' && !world.scenarioSet.byId.has(c.id))
      throw new CliFailure(
        `${c.flag}: world ${plan.world} has no scenario ${JSON.stringify(c.id)}; expected one of ${[...world.scenarioSet.byId.keys()].join(', ')}`,
      )
  const keep = streamFilter(plan.streams)
  if (!world.streams.some((s) => keep(s.name)))
    throw new CliFailure(
      `--streams ${plan.streams.join(',')} names no stream of world ${plan.world} (verisim types --world ${plan.world} lists them)`,
    )

  if (plan.split) ensureWritableDir(plan.out)
  else if (plan.out !== '-') ensureWritableDir(dirname(plan.out))
  if (plan.truth) ensureWritableDir(dirname(plan.truth))

  const toStdout = plan.out === '-'
  const progress = createProgress(io.stderr)
  const sink = createSink({
    format: plan.format,
    out: plan.out,
    split: plan.split,
    world: plan.world,
    stdout: io.stdout,
  })
  const t0 = performance.now()
  const span = plan.end - plan.start
  let files: OutFile[]
  let result
  try {
    result = await runGeneration({
      plan,
      world,
      sink,
      onProgress: (now, events) => {
        const secs = (performance.now() - t0) / 1000
        const label =
          now <= plan.start
            ? 'warming up'
            : `${new Date(now).toISOString().slice(0, 16)}Z  ${events.toLocaleString('en-US')} events  ${Math.round(events / Math.max(secs, 0.001)).toLocaleString('en-US')}/s`
        progress.update(label, Math.max(0, now - plan.start), span)
      },
    })
    files = await sink.close()
  } finally {
    progress.done()
  }
  const secs = (performance.now() - t0) / 1000

  const written: OutFile[] = toStdout ? [] : [...files]
  if (plan.truth) {
    const bytes = Buffer.from(`${JSON.stringify(result.truth, null, 2)}\n`)
    try {
      writeFileSync(plan.truth, bytes)
    } catch (err) {
      throw new CliFailure(`cannot write ${plan.truth}: ${fsReason(err)}`)
    }
    written.push({
      path: plan.truth,
      rows: 0,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    })
  }
  let manifestPath: string | null = null
  if (!toStdout) {
    manifestPath = plan.split
      ? `${plan.out}/checksums.sha256`
      : `${plan.out.replace(/\.(ndjson|jsonl|csv|parquet)$/i, '')}.sha256`
    const base = dirname(manifestPath)
    const manifest = written.map((f) => `${f.sha256}  ${relative(base, f.path)}\n`).join('')
    try {
      writeFileSync(manifestPath, manifest)
    } catch (err) {
      throw new CliFailure(`cannot write ${manifestPath}: ${fsReason(err)}`)
    }
  }

  // The summary goes to stderr when the events go to stdout.
  const say = (s: string) => (toStdout ? io.stderr : io.stdout).write(s)
  const show = (p: string) => {
    const r = relative(io.cwd, p)
    return r.startsWith('..') || r === '' ? p : r
  }
  // the rate of the span written; the warm-up before --start is computed and not written
  const writing = secs - result.warmupMs / 1000
  const rate = Math.round(result.events / Math.max(writing, 0.001))
  const warmupHours = Number(result.truth.generation.warmupHours)
  say(
    `verisim: ${result.events.toLocaleString('en-US')} events of world ${plan.world} (seed ${plan.seed}, ` +
      `${new Date(plan.start).toISOString()} → ${new Date(plan.end).toISOString()}) ` +
      `written in ${writing.toFixed(1)} s (${rate.toLocaleString('en-US')} events/s)` +
      (warmupHours > 0
        ? ` after a ${warmupHours}-hour warm-up of ${(result.warmupMs / 1000).toFixed(1)} s`
        : '') +
      `${toStdout ? ' to standard output' : ''}\n`,
  )
  const w = Math.max(0, ...written.map((f) => show(f.path).length))
  for (const f of written)
    say(
      `  ${show(f.path).padEnd(w)}  ${fmtSize(f.bytes).padStart(9)}${f.rows ? `  ${f.rows.toLocaleString('en-US').padStart(11)} rows` : ''.padStart(17)}  sha256 ${f.sha256.slice(0, 16)}…\n`,
    )
  if (manifestPath) say(`  checksums: ${show(manifestPath)} (sha256sum -c)\n`)
}
