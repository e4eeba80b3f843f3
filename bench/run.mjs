#!/usr/bin/env node
/**
 * Runs the benchmarks (`bench/*.bench.mjs`, or those named on the command line),
 * prints one table and writes the results as JSON to
 * `bench/results/<time>.json` and `bench/results/latest.json`.
 *
 * A benchmark module: `export default async function run(ctx)` returning rows
 * `{ name, value, unit, target?, note? }`; `ctx.log(msg)` reports progress and
 * `ctx.redisUrl()` gives a Redis (discovered once, as DESIGN.md "Running" says).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => wanted.length === 0 || wanted.includes(basename(f, '.bench.mjs')))
  .sort()
if (files.length === 0) {
  console.error(
    `no benchmark matches ${wanted.join(', ')}; available: ${readdirSync(here)
      .filter((f) => f.endsWith('.bench.mjs'))
      .map((f) => basename(f, '.bench.mjs'))
      .join(', ')}`,
  )
  process.exit(2)
}

let redis = null
const ctx = {
  log: (msg) => process.stderr.write(`  … ${msg}\n`),
  async redisUrl() {
    if (!redis) {
      const { discoverRedis } = await import('@verisim/bus')
      redis = await discoverRedis({ log: ctx.log })
    }
    return redis.url
  },
}

const results = []
let failed = false
for (const file of files) {
  const name = basename(file, '.bench.mjs')
  process.stderr.write(`▶ ${name}\n`)
  const started = Date.now()
  try {
    const mod = await import(pathToFileURL(join(here, file)).href)
    const rows = await mod.default(ctx)
    for (const r of rows) results.push({ bench: name, ...r })
  } catch (err) {
    failed = true
    results.push({
      bench: name,
      name: 'error',
      value: NaN,
      unit: '',
      note: String(err?.stack ?? err),
    })
    process.stderr.write(`  ✖ ${name} failed: ${err?.stack ?? err}\n`)
  }
  process.stderr.write(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
}
await redis?.stop()

const fmt = (v) =>
  typeof v !== 'number' || Number.isNaN(v)
    ? String(v)
    : Math.abs(v) >= 1000
      ? Math.round(v).toLocaleString('en-US')
      : Number(v.toPrecision(4)).toString()
const table = results.map((r) => ({
  bench: r.bench,
  metric: r.name,
  value: fmt(r.value),
  unit: r.unit,
  target: r.target ?? '',
  note: r.note && r.note.length > 60 ? `${r.note.slice(0, 57)}…` : (r.note ?? ''),
}))
const cols = ['bench', 'metric', 'value', 'unit', 'target', 'note']
const width = Object.fromEntries(
  cols.map((c) => [c, Math.max(c.length, ...table.map((r) => String(r[c]).length))]),
)
const line = (r) =>
  cols
    .map((c) => (c === 'value' ? String(r[c]).padStart(width[c]) : String(r[c]).padEnd(width[c])))
    .join('  ')
console.log(line(Object.fromEntries(cols.map((c) => [c, c]))))
console.log(cols.map((c) => '-'.repeat(width[c])).join('  '))
for (const r of table) console.log(line(r))

const meta = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  totalMemGiB: Math.round(os.totalmem() / 2 ** 30),
}
const out = join(here, 'results')
mkdirSync(out, { recursive: true })
const json = JSON.stringify({ meta, results }, null, 2)
writeFileSync(join(out, `${meta.at.replace(/[:.]/g, '-')}.json`), json)
writeFileSync(join(out, 'latest.json'), json)
console.log(`\nresults written to ${join('bench', 'results', 'latest.json')}`)
process.exit(failed ? 1 : 0)
