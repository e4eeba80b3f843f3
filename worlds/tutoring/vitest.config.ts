import { defineConfig } from 'vitest/config'

// CPU-bound statistical tests with no timing bounds: both cores (the suite runs one package at a time).
// Larger semi-spaces: the engine's per-event garbage dies young in bulk (a fifth less GC time, as `verisim generate`).
export default defineConfig({
  test: { testTimeout: 60_000, maxWorkers: 2, execArgv: ['--max-semi-space-size=64'] },
})
