import { defineConfig } from 'vitest/config'

// No timing bounds here: both cores (the suite runs one package at a time).
export default defineConfig({
  test: { testTimeout: 30_000, hookTimeout: 120_000, maxWorkers: 2 },
})
