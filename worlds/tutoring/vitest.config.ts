import { defineConfig } from 'vitest/config'

// CPU-bound statistical tests with no timing bounds: both cores (the suite runs one package at a time).
export default defineConfig({ test: { testTimeout: 60_000, maxWorkers: 2 } })
