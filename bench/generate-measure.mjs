/**
 * One `verisim generate` measurement in this process (run by generate.bench.mjs
 * in a fresh one): `node generate-measure.mjs <format> <days> <outDir>` runs the
 * command to `<outDir>/run.<ext>` and prints one JSON line: events, bytes, wall
 * and CPU ms, peak RSS. `<format>` `engine` measures the engine alone over the
 * same span (warm-up included, events dropped) for comparison.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { main } from '@verisim/cli'
import { createEngine } from '@verisim/sim'
import { loadWorldById } from '@verisim/worlds'

const [format, daysArg, outDir] = process.argv.slice(2)
const days = Number(daysArg)
const START = '2026-03-02T00:00:00Z'
const t0 = performance.now()
const cpu0 = process.cpuUsage()
let events = 0
let bytes = 0
if (format === 'engine') {
  const world = loadWorldById('tutoring')
  const start = Date.parse(START)
  const e = createEngine({ world, seed: 42, start: start - world.module.warmupHours * 3_600_000 })
  while (e.now < start) e.advance(Math.min(e.now + 3_600_000, start))
  while (e.now < start + days * 86_400_000) events += e.advance(e.now + 3_600_000).length
} else {
  const out = join(outDir, `run.${format}`)
  const quiet = new Writable({ write: (_c, _e, done) => done() })
  const code = await main(
    [
      'generate',
      '--world',
      'tutoring',
      '--seed',
      '42',
      '--start',
      START,
      '--duration',
      `${days}d`,
      '--format',
      format,
      '--out',
      out,
    ],
    { stdout: quiet, stderr: process.stderr, env: {}, cwd: outDir },
  )
  if (code !== 0) process.exit(code)
  events = JSON.parse(readFileSync(join(outDir, 'run.truth.json'), 'utf8')).summary.events
  bytes = statSync(out).size
}
const cpu = process.cpuUsage(cpu0)
console.log(
  JSON.stringify({
    format,
    days,
    events,
    bytes,
    ms: performance.now() - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
)
