/**
 * `verisim baseline export`: a run's 30-day history baseline — the same one the
 * generator serves — as three JSON files plus a `checksums.sha256` manifest
 * (`sha256sum -c` checks it). Defaults come from the generator's settings
 * (VERISIM_WORLD, VERISIM_SEED, VERISIM_START, VERISIM_CONFIG_DIR,
 * VERISIM_WARMUP_HOURS), except that without VERISIM_START the start is the
 * current hour rather than the current instant.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { HistoryBook, rollUp } from '@verisim/sim'
import { CliFailure, UsageError } from '../errors.js'
import type { Io } from '../io.js'
import { ensureWritableDir, fmtSize } from '../lib/files.js'
import { configDir, HOUR, parseSeed, parseTime, parseWorldName } from '../lib/options.js'
import { createProgress, type Progress } from '../lib/progress.js'
import { loadCliWorld } from '../lib/world.js'

export const BASELINE_FILES = {
  full: 'baseline-full-30day.json',
  statistics: 'baseline-statistics.json',
  events: 'baseline-events-30day.json',
  checksums: 'checksums.sha256',
} as const

export interface BaselineSettings {
  out: string
  world: string
  seed: number
  start: number
  /** Unset: the world module's own warm-up. */
  warmupHours: number | undefined
  configDir: string
  cwd: string
}

interface BaselineFlags {
  out?: string
  world?: string
  seed?: string
  start?: string
  configDir?: string
}

/** The export settings: flags, then the generator's environment variables, then defaults. */
export function baselineSettings(
  opts: BaselineFlags,
  env: NodeJS.ProcessEnv,
  now: number,
  cwd: string,
): BaselineSettings {
  if (opts.out === undefined) throw new UsageError('baseline export needs --out <dir>')
  const world = parseWorldName('--world', opts.world ?? (env.VERISIM_WORLD || 'tutoring'))
  const seed = parseSeed('--seed', opts.seed ?? (env.VERISIM_SEED || '42'))
  const startRaw = opts.start ?? env.VERISIM_START
  let start = Math.floor(now / HOUR) * HOUR
  if (startRaw === 'now') start = now
  else if (startRaw !== undefined && startRaw !== '')
    start = parseTime('--start', startRaw, ', or "now"')
  const warmRaw = env.VERISIM_WARMUP_HOURS || ''
  const warmupHours = warmRaw === '' ? undefined : Number(warmRaw)
  if (warmRaw !== '' && (!/^\d+$/.test(warmRaw) || warmupHours! > 24 * 30))
    throw new UsageError(
      `VERISIM_WARMUP_HOURS=${JSON.stringify(warmRaw)} is invalid; expected an integer from 0 to 720`,
    )
  return {
    out: resolve(cwd, opts.out),
    world,
    seed,
    start,
    warmupHours,
    configDir: configDir(opts.configDir, env, cwd),
    cwd,
  }
}

export function registerBaseline(program: Command, io: Io): void {
  const baseline = program
    .command('baseline')
    .description("a run's 30-day history baseline, as the generator serves it")
  baseline
    .command('export')
    .description("write the run's 30-day history baseline to a folder")
    .option('--out <dir>', 'output folder (created if missing); required')
    .option(
      '--world <name>',
      'world folder under --config-dir (default: $VERISIM_WORLD, else tutoring)',
    )
    .option('--seed <n>', 'integer 0…4294967295 (default: $VERISIM_SEED, else 42)')
    .option(
      '--start <ISO|now>',
      'simulation start; the baseline ends there (default: $VERISIM_START, else the current hour)',
    )
    .option(
      '--config-dir <dir>',
      'folder of worlds (default: $VERISIM_CONFIG_DIR, else config/worlds)',
    )
    .addHelpText(
      'after',
      `
The growth trend starts at start − $VERISIM_WARMUP_HOURS (default: the world's, tutoring 240), as in the generator.

Files written:
  ${BASELINE_FILES.full}     15-min buckets of every stream (count and mean arrays;
                               bucket i starts at from + i × bucketMs) and the 60 12-h points
  ${BASELINE_FILES.statistics}     statistics per stream at 12 h, 1 h and 15 min
  ${BASELINE_FILES.events}   the baseline's external events with their measured impact
  ${BASELINE_FILES.checksums}             SHA-256 of each file (sha256sum -c ${BASELINE_FILES.checksums})
`,
    )
    .action(async (opts: BaselineFlags) => {
      const s = baselineSettings(opts, io.env, Date.now(), io.cwd)
      const progress = createProgress(io.stderr)
      try {
        await exportBaseline(s, io, progress)
      } finally {
        progress.done()
      }
    })
}

const iso = (t: number) => new Date(t).toISOString()

/** "@verisim/sim@<version> history-model sha256:<12 hex>": the package version and a digest of the built history model. */
function modelVersion(): string {
  const dist = dirname(fileURLToPath(import.meta.resolve('@verisim/sim')))
  const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as {
    name: string
    version: string
  }
  const dir = join(dist, 'history')
  const h = createHash('sha256')
  if (existsSync(dir))
    for (const f of readdirSync(dir)
      .filter((x) => x.endsWith('.js'))
      .sort())
      h.update(f).update(readFileSync(join(dir, f)))
  return `${pkg.name}@${pkg.version} history-model sha256:${h.digest('hex').slice(0, 12)}`
}

async function exportBaseline(s: BaselineSettings, io: Io, progress: Progress): Promise<void> {
  ensureWritableDir(s.out)
  const world = loadCliWorld(s.world, s.configDir)
  const warmupHours = s.warmupHours ?? world.module.warmupHours
  const t0 = performance.now()
  const origin = s.start - warmupHours * HOUR
  const book = new HistoryBook({
    world,
    seed: s.seed,
    start: s.start,
    origin,
    onProgress: (done, total) => progress.update('generating the baseline', done, total),
  })
  const series = book.series
  const generatedAt = io.env.SOURCE_DATE_EPOCH
    ? iso(Number(io.env.SOURCE_DATE_EPOCH) * 1000)
    : new Date().toISOString()
  const generation = {
    world: s.world,
    seed: s.seed,
    start: iso(s.start),
    from: iso(series.from),
    to: iso(series.start),
    origin: iso(origin),
    warmupHours,
    version: modelVersion(),
    generatedAt,
  }

  progress.update('rolling up 12 h points', 0, 1)
  const streams: Record<string, unknown> = {}
  series.streams.forEach((name, i) => {
    const p = rollUp(series, i, '12h')
    streams[name] = {
      measure: series.measures[i],
      // NaN (no event in the bucket) is written as null
      count: Array.from(series.count[i]!),
      mean: Array.from(series.mean[i]!, (x) => (Number.isNaN(x) ? null : x)),
      points12h: p.t.map((t, k) => ({ t: iso(t), v: Number.isNaN(p.v[k]) ? null : p.v[k] })),
    }
  })
  const full = {
    generation,
    series: {
      bucketMs: series.bucketMs,
      buckets: series.n,
      // bucket i covers [from + i × bucketMs, from + (i + 1) × bucketMs); the last one
      // ends at `to` when the start is not on the 15-min grid
      from: iso(series.from),
      to: iso(series.start),
      partialLastBucket: (series.start - series.from) % series.bucketMs !== 0,
      streams: series.streams.length,
    },
    streams,
    anomalies: book.baseline.anomalies.map((a) => ({ ...a, start: iso(a.start), end: iso(a.end) })),
  }
  progress.update('computing statistics', 0, 3)
  const statistics: { generation: typeof generation; statistics: Record<string, unknown> } = {
    generation,
    statistics: {},
  }
  for (const [k, iv] of (['12h', '1h', '15m'] as const).entries()) {
    statistics.statistics[iv] = book.statistics(iv)
    progress.update('computing statistics', k + 1, 3)
  }
  const events = book.events
  const perDay = new Map<string, number>()
  for (const e of events) {
    const d = e.timestamp.slice(0, 10)
    perDay.set(d, (perDay.get(d) ?? 0) + 1)
  }
  const herrings = events.filter((e) => e.redHerring).length
  const eventsDoc = {
    generation,
    summary: {
      events: events.length,
      redHerrings: herrings,
      causal: events.length - herrings,
      impacted: events.filter((e) => e.impacted).length,
      perDay: { min: Math.min(...perDay.values()), max: Math.max(...perDay.values()) },
    },
    events,
  }

  const docs: [string, string][] = [
    [BASELINE_FILES.full, JSON.stringify(full)],
    [BASELINE_FILES.statistics, JSON.stringify(statistics, null, 2)],
    [BASELINE_FILES.events, JSON.stringify(eventsDoc, null, 2)],
  ]
  const written: { name: string; size: number; sha256: string }[] = []
  for (const [k, [name, text]] of docs.entries()) {
    progress.update(`writing ${name}`, k, docs.length)
    const bytes = Buffer.from(`${text}\n`)
    try {
      writeFileSync(join(s.out, name), bytes)
    } catch (err) {
      throw new CliFailure(
        `cannot write ${join(s.out, name)}: ${(err as { code?: string }).code ?? (err as Error).message}`,
      )
    }
    written.push({
      name,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    })
  }
  const manifest = written.map((f) => `${f.sha256}  ${f.name}\n`).join('')
  writeFileSync(join(s.out, BASELINE_FILES.checksums), manifest)
  written.push({ name: BASELINE_FILES.checksums, size: Buffer.byteLength(manifest), sha256: '' })
  progress.done()

  const secs = ((performance.now() - t0) / 1000).toFixed(1)
  const shown = relative(s.cwd, s.out) || '.'
  io.stdout.write(
    `verisim: baseline of world ${s.world} (seed ${s.seed}, ${generation.from} → ${generation.to}, ` +
      `${series.streams.length} streams, ${events.length} events) written to ${shown.startsWith('..') ? s.out : shown} in ${secs} s\n`,
  )
  const w = Math.max(...written.map((f) => f.name.length))
  for (const f of written)
    io.stdout.write(
      `  ${f.name.padEnd(w)}  ${fmtSize(f.size).padStart(9)}${f.sha256 ? `  sha256 ${f.sha256.slice(0, 16)}…` : ''}\n`,
    )
}
