#!/usr/bin/env node
/** `pnpm bench [name…]`: install if needed, build, then run bench/run.mjs. */
import { ensureInstalled, findPnpm, runPnpm } from './pnpm.mjs'

const pnpm = findPnpm()
await ensureInstalled(pnpm)
let code = await runPnpm(pnpm, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'])
if (code === 0)
  code = await runPnpm(pnpm, [
    '--filter',
    '@verisim/bench',
    'run',
    'bench',
    ...process.argv.slice(2),
  ])
process.exit(code)
