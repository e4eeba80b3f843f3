import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own services; run files one after another on 2 cores.
    fileParallelism: false,
  },
})
