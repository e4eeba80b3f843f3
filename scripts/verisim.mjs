#!/usr/bin/env node
/**
 * `pnpm verisim …`: command-line tools over the simulation engine.
 *
 *   verisim baseline export --out <dir> [--world tutoring] [--seed 42]
 *                           [--start <ISO>] [--config-dir config/worlds]
 *
 * Writes a run's 30-day history baseline — the same one the generator serves —
 * as three JSON files plus a `checksums.sha256` manifest (`sha256sum -c` checks
 * it). Defaults come from the generator's settings (VERISIM_WORLD, VERISIM_SEED,
 * VERISIM_START, VERISIM_CONFIG_DIR, VERISIM_WARMUP_HOURS), except that without
 * VERISIM_START the start is the current hour rather than the current instant.
 *
 * Exit codes: 0 done, 1 failed while running (world not loadable, output not
 * writable), 2 bad command line.
 */
import { createHash } from 'node:crypto'
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const SIM_DIR = join(root, 'packages', 'sim')
const SIM_DIST = join(SIM_DIR, 'dist', 'index.js')
/** The registry of world modules (the engine needs the world's module to load its config). */
const WORLDS_DIST = join(root, 'packages', 'worlds', 'dist', 'index.js')
const HOUR = 3_600_000

const FILES = {
  full: 'baseline-full-30day.json',
  statistics: 'baseline-statistics.json',
  events: 'baseline-events-30day.json',
  checksums: 'checksums.sha256',
}

const HELP = `Usage: verisim <command> [options]

Commands:
  baseline export --out <dir>   write the run's 30-day history baseline to <dir>

Options of baseline export:
  --out <dir>          output folder (created if missing); required
  --world <name>       world folder under --config-dir   (default: $VERISIM_WORLD, else tutoring)
  --seed <n>           integer 0…4294967295              (default: $VERISIM_SEED, else 42)
  --start <ISO|now>    simulation start; the baseline ends there
                       (default: $VERISIM_START, else the current hour)
  --config-dir <dir>   folder of worlds                  (default: $VERISIM_CONFIG_DIR, else config/worlds)

  The growth trend starts at start − $VERISIM_WARMUP_HOURS (default: the world's, tutoring 240), as in the generator.

Files written:
  ${FILES.full}     15-min buckets of every stream (count and mean arrays;
                               bucket i starts at from + i × bucketMs) and the 60 12-h points
  ${FILES.statistics}     statistics per stream at 12 h, 1 h and 15 min
  ${FILES.events}   the baseline's external events with their measured impact
  ${FILES.checksums}             SHA-256 of each file (sha256sum -c ${FILES.checksums})

Exit codes: 0 done, 1 failed, 2 bad command line.
  -h, --help           show this help
`

class UsageError extends Error {}

const write = (s) => process.stderr.write(s)

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

const EXPORT_OPTIONS = ['--out', '--world', '--seed', '--start', '--config-dir']

/** `[command…], options` from argv; throws UsageError. */
export function parseArgs(argv) {
  const words = []
  const opts = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '-h' || a === '--help') return { help: true }
    if (!a.startsWith('-')) {
      words.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(0, eq) : a
    if (!EXPORT_OPTIONS.includes(name))
      throw new UsageError(`unknown option ${name}; expected ${EXPORT_OPTIONS.join(', ')}`)
    let value
    if (eq > 0) value = a.slice(eq + 1)
    else {
      value = argv[++i]
      if (value === undefined || value.startsWith('--'))
        throw new UsageError(`option ${name} needs a value`)
    }
    if (value === '') throw new UsageError(`option ${name} needs a value`)
    opts[name.slice(2)] = value
  }
  return { words, opts }
}

/** The export settings: flags, then the generator's environment variables, then defaults. */
export function exportSettings(opts, env = process.env, now = Date.now(), cwd = process.cwd()) {
  if (opts.out === undefined) throw new UsageError('baseline export needs --out <dir>')
  const world = opts.world ?? (env.VERISIM_WORLD || 'tutoring')
  if (!/^[a-z0-9_-]+$/.test(world))
    throw new UsageError(
      `--world ${JSON.stringify(world)} is invalid; expected a world folder name like "tutoring"`,
    )
  const seedRaw = opts.seed ?? (env.VERISIM_SEED || '42')
  const seed = Number(seedRaw)
  if (!/^\d+$/.test(seedRaw) || !Number.isSafeInteger(seed) || seed > 2 ** 32 - 1)
    throw new UsageError(
      `--seed ${JSON.stringify(seedRaw)} is invalid; expected an integer from 0 to 4294967295`,
    )
  const startRaw = opts.start ?? env.VERISIM_START
  let start = Math.floor(now / HOUR) * HOUR
  if (startRaw !== undefined && startRaw !== '' && startRaw !== 'now') {
    start = Date.parse(startRaw)
    if (!/^\d{4}-\d{2}-\d{2}/.test(startRaw) || Number.isNaN(start))
      throw new UsageError(
        `--start ${JSON.stringify(startRaw)} is invalid; expected an ISO 8601 time like 2026-11-23T08:00:00Z, or "now"`,
      )
  } else if (startRaw === 'now') start = now
  // unset: the world module's own warm-up (resolved once the world is loaded)
  const warmRaw = env.VERISIM_WARMUP_HOURS || ''
  const warmupHours = warmRaw === '' ? undefined : Number(warmRaw)
  if (warmRaw !== '' && (!/^\d+$/.test(warmRaw) || warmupHours > 24 * 30))
    throw new UsageError(
      `VERISIM_WARMUP_HOURS=${JSON.stringify(warmRaw)} is invalid; expected an integer from 0 to 720`,
    )
  const configDir = resolve(
    cwd,
    opts['config-dir'] ?? (env.VERISIM_CONFIG_DIR || join(root, 'config', 'worlds')),
  )
  return { out: resolve(cwd, opts.out), world, seed, start, warmupHours, configDir, cwd }
}

// ---------------------------------------------------------------------------
// The engine package
// ---------------------------------------------------------------------------

function newestMtime(dir) {
  let newest = 0
  for (const f of readdirSync(dir, { recursive: true })) {
    const st = statSync(join(dir, String(f)))
    if (st.isFile()) newest = Math.max(newest, st.mtimeMs)
  }
  return newest
}

/** Imports the built @verisim/sim, building it with the workspace's pnpm when dist is missing. */
async function loadSim() {
  if (!existsSync(SIM_DIST) || !existsSync(WORLDS_DIST)) {
    write(
      'verisim: the engine is not built; building it (pnpm exec turbo run build --filter=@verisim/worlds...)\n',
    )
    let code = 1
    try {
      const { ensureInstalled, findPnpm, runPnpm } = await import('./pnpm.mjs')
      const pnpm = findPnpm()
      await ensureInstalled(pnpm, (m) => write(`verisim: ${m}\n`))
      const quiet = { stdio: ['ignore', 2, 2] }
      code = await runPnpm(
        pnpm,
        [
          'exec',
          'turbo',
          'run',
          'build',
          '--filter=@verisim/worlds...',
          '--output-logs=errors-only',
        ],
        quiet,
      )
    } catch (err) {
      write(`verisim: ${err instanceof Error ? err.message : err}\n`)
    }
    if (code !== 0 || !existsSync(SIM_DIST) || !existsSync(WORLDS_DIST)) {
      throw new Error(
        'the engine is not built and building it failed; run `pnpm build` at the repository root, then try again',
      )
    }
  } else if (newestMtime(join(SIM_DIR, 'src')) > statSync(SIM_DIST).mtimeMs) {
    write(
      'verisim: note: packages/sim/src changed since packages/sim/dist was built; run `pnpm build` to export with the changes\n',
    )
  }
  return import(pathToFileURL(SIM_DIST).href)
}

/** "@verisim/sim@<version> history-model sha256:<12 hex>": the package version and a digest of the built history model. */
function modelVersion() {
  const pkg = JSON.parse(readFileSync(join(SIM_DIR, 'package.json'), 'utf8'))
  const dir = join(SIM_DIR, 'dist', 'history')
  const h = createHash('sha256')
  if (existsSync(dir))
    for (const f of readdirSync(dir)
      .filter((x) => x.endsWith('.js'))
      .sort())
      h.update(f).update(readFileSync(join(dir, f)))
  return `${pkg.name}@${pkg.version} history-model sha256:${h.digest('hex').slice(0, 12)}`
}

// ---------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------

function createProgress(enabled) {
  const width = 30
  let last = ''
  return {
    update(label, done, total) {
      if (!enabled) return
      const f = total > 0 ? Math.min(1, done / total) : 1
      const n = Math.round(f * width)
      const line = `  ${'█'.repeat(n)}${'░'.repeat(width - n)} ${String(Math.round(f * 100)).padStart(3)} %  ${label}`
      if (line === last) return
      last = line
      write(`\r${line}\x1b[K`)
    },
    done() {
      if (enabled && last) write('\r\x1b[K')
      last = ''
    },
  }
}

// ---------------------------------------------------------------------------
// baseline export
// ---------------------------------------------------------------------------

const iso = (t) => new Date(t).toISOString()
const fmtSize = (n) =>
  n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} MB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} kB`
      : `${n} B`

/** `mkdir -p`, one level at a time (Node 20's recursive mkdirSync can spin forever under /proc). */
function mkdirp(dir) {
  const missing = []
  let d = dir
  while (!existsSync(d)) {
    missing.unshift(d)
    const up = dirname(d)
    if (up === d) break
    d = up
  }
  for (const m of missing) mkdirSync(m)
}

/** Checks that `dir` exists (creating it) and is writable; throws with the reason. */
function ensureWritable(dir) {
  try {
    mkdirp(dir)
    if (!statSync(dir).isDirectory())
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    accessSync(dir, constants.W_OK)
  } catch (err) {
    const reason =
      err?.code === 'ENOTDIR' || err?.code === 'EEXIST'
        ? 'a file is in the way'
        : err?.code === 'EACCES' || err?.code === 'EPERM' || err?.code === 'EROFS'
          ? `permission denied (${err.code})`
          : err?.code
            ? `cannot create it (${err.code})`
            : (err?.message ?? String(err))
    throw new Error(`cannot write to ${dir}: ${reason}`)
  }
}

async function exportBaseline(s) {
  const progress = createProgress(process.stderr.isTTY === true)
  try {
    await exportWith(s, progress)
  } finally {
    progress.done()
  }
}

async function exportWith(s, progress) {
  ensureWritable(s.out)
  const sim = await loadSim()
  let world
  try {
    const worlds = await import(pathToFileURL(WORLDS_DIST).href)
    world = sim.loadWorld(join(s.configDir, s.world), worlds.worldModule(s.world))
  } catch (err) {
    throw new Error(`cannot load world ${s.world} from ${s.configDir}: ${err.message}`)
  }
  s = { ...s, warmupHours: s.warmupHours ?? world.module.warmupHours }
  const t0 = performance.now()
  const origin = s.start - s.warmupHours * HOUR
  const book = new sim.HistoryBook({
    world,
    seed: s.seed,
    start: s.start,
    origin,
    onProgress: (done, total) => progress.update('generating the baseline', done, total),
  })
  const series = book.series
  const generatedAt = process.env.SOURCE_DATE_EPOCH
    ? iso(Number(process.env.SOURCE_DATE_EPOCH) * 1000)
    : new Date().toISOString()
  const generation = {
    world: s.world,
    seed: s.seed,
    start: iso(s.start),
    from: iso(series.from),
    to: iso(series.start),
    origin: iso(origin),
    warmupHours: s.warmupHours,
    version: modelVersion(),
    generatedAt,
  }

  progress.update('rolling up 12 h points', 0, 1)
  const streams = {}
  series.streams.forEach((name, i) => {
    const p = sim.rollUp(series, i, '12h')
    streams[name] = {
      measure: series.measures[i],
      // NaN (no event in the bucket) is written as null
      count: Array.from(series.count[i]),
      mean: Array.from(series.mean[i], (x) => (Number.isNaN(x) ? null : x)),
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
  const statistics = { generation, statistics: {} }
  for (const [k, iv] of ['12h', '1h', '15m'].entries()) {
    statistics.statistics[iv] = book.statistics(iv)
    progress.update('computing statistics', k + 1, 3)
  }
  const events = book.events
  const perDay = new Map()
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

  const docs = [
    [FILES.full, JSON.stringify(full)],
    [FILES.statistics, JSON.stringify(statistics, null, 2)],
    [FILES.events, JSON.stringify(eventsDoc, null, 2)],
  ]
  const written = []
  for (const [k, [name, text]] of docs.entries()) {
    progress.update(`writing ${name}`, k, docs.length)
    const bytes = Buffer.from(`${text}\n`)
    try {
      writeFileSync(join(s.out, name), bytes)
    } catch (err) {
      throw new Error(`cannot write ${join(s.out, name)}: ${err.code ?? err.message}`)
    }
    written.push({
      name,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    })
  }
  const manifest = written.map((f) => `${f.sha256}  ${f.name}\n`).join('')
  writeFileSync(join(s.out, FILES.checksums), manifest)
  written.push({ name: FILES.checksums, size: Buffer.byteLength(manifest), sha256: '' })
  progress.done()

  const secs = ((performance.now() - t0) / 1000).toFixed(1)
  const shown = relative(s.cwd, s.out) || '.'
  process.stdout.write(
    `verisim: baseline of world ${s.world} (seed ${s.seed}, ${generation.from} → ${generation.to}, ` +
      `${series.streams.length} streams, ${events.length} events) written to ${shown.startsWith('..') ? s.out : shown} in ${secs} s\n`,
  )
  const w = Math.max(...written.map((f) => f.name.length))
  for (const f of written)
    process.stdout.write(
      `  ${f.name.padEnd(w)}  ${fmtSize(f.size).padStart(9)}${f.sha256 ? `  sha256 ${f.sha256.slice(0, 16)}…` : ''}\n`,
    )
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main(argv) {
  let parsed
  try {
    parsed = parseArgs(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      write(`verisim: ${err.message}\n`)
      return 2
    }
    throw err
  }
  if (parsed.help) {
    process.stdout.write(HELP)
    return 0
  }
  const { words, opts } = parsed
  if (words.length === 0) {
    write(HELP)
    return 2
  }
  if (words[0] === 'help') {
    process.stdout.write(HELP)
    return 0
  }
  if (words[0] !== 'baseline' || words[1] !== 'export' || words.length > 2) {
    const what = words[0] === 'baseline' ? `baseline ${words.slice(1).join(' ')}`.trim() : words[0]
    write(`verisim: unknown command "${what}"; expected "baseline export" (verisim --help)\n`)
    return 2
  }
  // Run as `pnpm verisim …`, relative paths are the caller's, not the repository root's.
  const cwd =
    process.env.npm_lifecycle_event === 'verisim' && process.env.INIT_CWD
      ? process.env.INIT_CWD
      : process.cwd()
  let settings
  try {
    settings = exportSettings(opts, process.env, Date.now(), cwd)
  } catch (err) {
    if (err instanceof UsageError) {
      write(`verisim: ${err.message}\n`)
      return 2
    }
    throw err
  }
  try {
    await exportBaseline(settings)
    return 0
  } catch (err) {
    write(`verisim: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      write(`verisim: ${err?.stack ?? err}\n`)
      process.exitCode = 1
    },
  )
}
