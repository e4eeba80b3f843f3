#!/usr/bin/env node
/**
 * Generates docs/streams.md from config/worlds/tutoring/*.json through
 * `@verisim/sim`'s built dist (run `pnpm --filter @verisim/sim build` first), so
 * the stream documentation is never written twice. `--check` only compares and
 * exits 1 when the file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { format } from 'prettier'
import { renderStreamsDoc } from '../packages/sim/dist/index.js'
import { loadWorldById } from '../packages/worlds/dist/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const target = join(root, 'docs', 'streams.md')
const world = loadWorldById('tutoring')
// Formatted like the rest of the repo, so `prettier --check .` agrees with the generator.
const text = await format(renderStreamsDoc(world), {
  parser: 'markdown',
  filepath: target,
  proseWrap: 'preserve',
})

if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(target, 'utf8')
  } catch {}
  if (current !== text) {
    console.error(`${target} is out of date: run node scripts/gen-streams-doc.mjs`)
    process.exit(1)
  }
  console.log(`${target} is up to date`)
} else {
  writeFileSync(target, text)
  console.log(`wrote ${target} (${world.streams.length} streams)`)
}
