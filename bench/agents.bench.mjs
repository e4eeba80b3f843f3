/**
 * Agent model: the example world (worlds/example, @verisim/worlds id `example`)
 * with 100,000 agents — its config with `population.agents` changed in memory and
 * compiled with `compileWorld` — on one core:
 *
 * - events/s generating 7 simulated days in 1-hour `advance()` steps, events
 *   counted and dropped, after a 1-day warm-up run (another seed). Target:
 *   ≥ 300,000 events/s. Events per CPU second beside it: steadier than wall time
 *   on a busy machine.
 * - bytes per agent: `process.memoryUsage()` after `global.gc()` before and after
 *   creating the engine (which builds the population): the V8 heap (`heapUsed`)
 *   and the typed arrays' backing stores (`arrayBuffers`, outside the heap, where
 *   an agent world keeps its agents). Target: ≤ 200 bytes per agent, both together.
 *
 * Each round runs in a fresh Node process started with `--expose-gc` (this file
 * with `--child`), so GC is exact and no other benchmark's garbage counts;
 * VERISIM_BENCH_AGENTS_ROUNDS rounds (default 3), medians. About 10 s a round.
 *
 * Env: VERISIM_BENCH_AGENTS (default 100000), VERISIM_BENCH_AGENTS_DAYS (default 7),
 * VERISIM_BENCH_AGENTS_ROUNDS (default 3).
 *
 * Run with `pnpm bench agents`, or alone: `node bench/agents.bench.mjs`.
 */
import { runJsonChild } from './child.mjs'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const self = fileURLToPath(import.meta.url)
const START = Date.UTC(2025, 1, 24)
const HOUR = 3_600_000
const DAY = 24 * HOUR
const AGENTS = Number(process.env.VERISIM_BENCH_AGENTS ?? 100_000)
const DAYS = Number(process.env.VERISIM_BENCH_AGENTS_DAYS ?? 7)
const ROUNDS = Number(process.env.VERISIM_BENCH_AGENTS_ROUNDS ?? 3)
const WARMUP_DAYS = 1
const TARGET_EPS = 300_000
const TARGET_BYTES = 200

/** The child: one measurement, printed as one JSON line. */
async function child() {
  const { WORLD_FILES, compileWorld, createEngine } = await import('@verisim/sim')
  const { DEFAULT_WORLDS_DIR, worldModule } = await import('@verisim/worlds')
  const module = worldModule('example')
  const dir = join(DEFAULT_WORLDS_DIR, 'example')
  const raw = {}
  for (const [key, file] of Object.entries(WORLD_FILES)) {
    try {
      raw[key] = JSON.parse(readFileSync(join(dir, file), 'utf8'))
    } catch (err) {
      if (err?.code !== 'ENOENT') throw err
    }
  }
  raw.baseline.population.agents = AGENTS
  const world = compileWorld(raw, module, dir)

  const gc = () => {
    global.gc()
    global.gc()
  }
  gc()
  const m0 = process.memoryUsage()
  const b0 = process.hrtime.bigint()
  const engine = createEngine({ world, seed: 42, start: START })
  const buildMs = Number(process.hrtime.bigint() - b0) / 1e6
  gc()
  const m1 = process.memoryUsage()
  const agents = engine.stats().world.agents.total

  const generate = (e, days) => {
    let events = 0
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    for (let t = START + HOUR; t <= START + days * DAY; t += HOUR) events += e.advance(t).length
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    const cpu = process.cpuUsage(cpu0)
    // user + system of the whole process (includes V8's GC helper threads)
    return { events, ms, cpuMs: (cpu.user + cpu.system) / 1000 }
  }
  generate(createEngine({ world, seed: 1, start: START }), WARMUP_DAYS)
  const r = generate(engine, DAYS)
  const byStream = engine.stats().eventsByStream
  console.log(
    JSON.stringify({
      ...r,
      agents,
      buildMs,
      heapBytes: m1.heapUsed - m0.heapUsed,
      arrayBufferBytes: m1.arrayBuffers - m0.arrayBuffers,
      streams: Object.keys(byStream).length,
      pending: engine.stats().pending,
    }),
  )
}

/** One round in a fresh process. */
function measure() {
  return runJsonChild(['--expose-gc', self, '--child'], { env: process.env })
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const fmt = (v) => Math.round(v).toLocaleString('en-US')

export default async function run(ctx) {
  for (const [name, v, min] of [
    ['VERISIM_BENCH_AGENTS', AGENTS, 1],
    ['VERISIM_BENCH_AGENTS_DAYS', DAYS, 1],
    ['VERISIM_BENCH_AGENTS_ROUNDS', ROUNDS, 1],
  ])
    if (!(Number.isInteger(v) && v >= min))
      throw new Error(`${name} must be a whole number ≥ ${min}, got ${v}`)
  const rounds = []
  for (let i = 1; i <= ROUNDS; i++) {
    const r = await measure()
    rounds.push(r)
    ctx.log(
      `round ${i}/${ROUNDS}: ${fmt((r.events / r.ms) * 1000)} events/s (${fmt(r.events)} events in ${(r.ms / 1000).toFixed(1)} s), ` +
        `${((r.heapBytes + r.arrayBufferBytes) / r.agents).toFixed(1)} bytes/agent`,
    )
  }
  const events = new Set(rounds.map((r) => r.events))
  if (events.size > 1)
    throw new Error(`rounds generated different events: ${[...events].join(', ')}`)
  const eps = median(rounds.map((r) => (r.events / r.ms) * 1000))
  const cpu = median(rounds.map((r) => (r.events / r.cpuMs) * 1000))
  const heap = median(rounds.map((r) => r.heapBytes / r.agents))
  const buffers = median(rounds.map((r) => r.arrayBufferBytes / r.agents))
  const total = median(rounds.map((r) => (r.heapBytes + r.arrayBufferBytes) / r.agents))
  const { agents, streams, pending } = rounds[0]
  const runs = `median of ${rounds.length} runs, each in a fresh process`
  return [
    {
      name: `agent world events/s (${fmt(agents)} agents, ${DAYS} simulated days, 1 core)`,
      value: eps,
      unit: 'events/s',
      target: `>= ${TARGET_EPS}`,
      note: `${eps >= TARGET_EPS ? 'meets target' : 'BELOW TARGET'}; ${runs}`,
    },
    {
      name: 'agent world events per CPU second',
      value: cpu,
      unit: 'events/s',
      note: `same runs, by process CPU time (GC threads included); ${cpu >= TARGET_EPS ? 'meets' : 'below'} the target by this measure`,
    },
    {
      name: 'agent world bytes per agent (heap + typed arrays)',
      value: total,
      unit: 'bytes/agent',
      target: `<= ${TARGET_BYTES}`,
      note: `${total <= TARGET_BYTES ? 'meets target' : 'ABOVE TARGET'}; after global.gc(), engine created vs world compiled`,
    },
    {
      name: 'agent world V8 heap per agent (heapUsed)',
      value: heap,
      unit: 'bytes/agent',
      note: 'what process.memoryUsage().heapUsed sees: agents live in typed arrays, off the heap',
    },
    {
      name: 'agent world typed arrays per agent (arrayBuffers)',
      value: buffers,
      unit: 'bytes/agent',
      note: 'propensity trees, segments, cooldowns, favourites, order counts (grown by doubling)',
    },
    {
      name: 'agent world events generated',
      value: rounds[0].events,
      unit: 'events',
      note: `${streams} streams; every round the same`,
    },
    {
      name: 'agent world mean events per simulated second',
      value: rounds[0].events / (DAYS * 86_400),
      unit: 'events/s (sim)',
      note: 'what speed 1 emits',
    },
    {
      name: 'agent world build time (population of the engine)',
      value: median(rounds.map((r) => r.buildMs)),
      unit: 'ms',
    },
    { name: 'agent world pending items at end', value: pending, unit: 'items' },
  ]
}

if (process.argv.includes('--child')) await child()
else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run({ log: (m) => process.stderr.write(`  … ${m}\n`) })
  for (const r of rows)
    console.log(
      `${r.name}: ${Math.round(r.value * 100) / 100} ${r.unit}${r.target ? ` (target ${r.target})` : ''}${r.note ? ` — ${r.note}` : ''}`,
    )
}
