/**
 * One engine measurement, run in a fresh process by engine.bench.mjs (so JIT and
 * GC state never carry over from one measurement to the next):
 *
 *   node bench/engine-measure.mjs current <days> <warmupDays>
 *   node bench/engine-measure.mjs baseline <days> <warmupDays> <simEntry> <worldDir>
 *
 * `current` is today's engine (@verisim/sim) on the tutoring world of the
 * @verisim/worlds registry; `baseline` a pre-refactor build (bench/baseline-build.mjs)
 * whose `loadWorld(worldDir)` reads the world folder. Both then do the same: a
 * warm-up of `warmupDays` simulated days (seed 1), then `days` simulated days
 * (seed 42) from 2025-02-24 in 1-hour `advance()` steps, events counted and
 * dropped. Prints one JSON line on stdout:
 * `{ events, ms, cpuMs, pending, streams, loadMs }`.
 */
import { pathToFileURL } from 'node:url'

const START = Date.UTC(2025, 1, 24)
const HOUR = 3_600_000
const DAY = 24 * HOUR

function generate(createEngine, world, seed, days) {
  const engine = createEngine({ world, seed, start: START })
  let events = 0
  const end = START + days * DAY
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let t = START + HOUR; t <= end; t += HOUR) events += engine.advance(t).length
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  const cpu = process.cpuUsage(cpu0)
  // user + system of the whole process (includes V8's GC helper threads)
  return { events, ms, cpuMs: (cpu.user + cpu.system) / 1000, pending: engine.stats().pending }
}

const [which, days, warmupDays, simEntry, worldDir] = process.argv.slice(2)
const l0 = process.hrtime.bigint()
let createEngine, world
if (which === 'current') {
  ;({ createEngine } = await import('@verisim/sim'))
  const { loadWorldById } = await import('@verisim/worlds')
  world = loadWorldById('tutoring')
} else if (which === 'baseline' && simEntry && worldDir) {
  const sim = await import(pathToFileURL(simEntry).href)
  createEngine = sim.createEngine
  world = sim.loadWorld(worldDir)
} else {
  console.error(
    `usage: engine-measure.mjs current|baseline <days> <warmupDays> [simEntry worldDir]`,
  )
  process.exit(2)
}
const loadMs = Number(process.hrtime.bigint() - l0) / 1e6
generate(createEngine, world, 1, Number(warmupDays))
const r = generate(createEngine, world, 42, Number(days))
console.log(JSON.stringify({ ...r, streams: world.streams.length, loadMs }))
