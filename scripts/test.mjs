#!/usr/bin/env node
/**
 * `npm test` / `pnpm test`: the whole suite from a fresh clone. Finds pnpm,
 * installs dependencies if needed, builds every package, then runs each
 * package's vitest suite one package at a time (Redis-backed tests find Redis
 * as DESIGN.md says; see packages/bus/src/discovery.ts).
 */
import { ensureInstalled, findPnpm, runPnpm } from './pnpm.mjs'

const started = Date.now()
const pnpm = findPnpm()
await ensureInstalled(pnpm)
let code = await runPnpm(pnpm, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'])
if (code === 0) {
  code = await runPnpm(pnpm, [
    'exec',
    'turbo',
    'run',
    'test',
    '--concurrency=1',
    '--output-logs=full',
    ...process.argv.slice(2),
  ])
}
console.log(
  `\n${code === 0 ? 'tests passed' : `tests FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
)
process.exit(code)
