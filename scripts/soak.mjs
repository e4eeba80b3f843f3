#!/usr/bin/env node
/** `pnpm soak`: install if needed, build, then run bench/soak.mjs (VERISIM_SOAK_MINUTES, default 60). */
import { ensureInstalled, findPnpm, runPnpm } from './pnpm.mjs'

const pnpm = findPnpm()
await ensureInstalled(pnpm)
let code = await runPnpm(pnpm, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'])
if (code === 0) code = await runPnpm(pnpm, ['--filter', '@verisim/bench', 'run', 'soak'])
process.exit(code)
