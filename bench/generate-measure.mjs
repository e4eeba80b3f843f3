/**
 * One `verisim generate` measurement in this process (run by generate.bench.mjs
 * in a fresh one): `node generate-measure.mjs <format> <days> <outDir>` runs the
 * command to `<outDir>/run.<ext>` and prints one JSON line: events, bytes, wall
 * and CPU ms, peak RSS. `<format>` `engine` measures the engine alone over the
 * same span (warm-up included, events dropped) for comparison. `writtenMs` and
 * `warmupMs` are the command's own split of its time (its summary line).
 * generate.bench.mjs starts it with the node flags the `verisim` binary gives
 * `generate` (GENERATE_NODE_FLAGS), the engine-alone measurement too.
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
/** The command's own split: the span written, and the world's warm-up before --start. */
let writtenMs = Number.NaN
let warmupMs = Number.NaN
if (format === 'engine') {
  const world = loadWorldById('tutoring')
  const start = Date.parse(START)
  const e = createEngine({ world, seed: 42, start: start - world.module.warmupHours * 3_600_000 })
  while (e.now < start) e.advance(Math.min(e.now + 3_600_000, start))
  const t1 = performance.now()
  warmupMs = t1 - t0
  while (e.now < start + days * 86_400_000) events += e.advance(e.now + 3_600_000).length
  writtenMs = performance.now() - t1
} else {
  const out = join(outDir, `run.${format}`)
  let summary = ''
  const quiet = new Writable({
    write: (c, _e, done) => {
      summary += c
      done()
    },
  })
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
  // "written in 150.2 s (…) after a 240-hour warm-up of 12.8 s"
  writtenMs = Number(/written in ([\d.]+) s/.exec(summary)?.[1]) * 1000
  warmupMs = Number(/warm-up of ([\d.]+) s/.exec(summary)?.[1] ?? 0) * 1000
}
const cpu = process.cpuUsage(cpu0)
console.log(
  JSON.stringify({
    format,
    days,
    events,
    bytes,
    ms: performance.now() - t0,
    writtenMs,
    warmupMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
)
