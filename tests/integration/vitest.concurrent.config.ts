import { defineConfig } from 'vitest/config'
import { BASE, CONCURRENT_FILES } from './vitest.config.js'

// The files that bound no time, two at a time (see vitest.config.ts).
export default defineConfig({
  test: { ...BASE, include: CONCURRENT_FILES, fileParallelism: true, maxWorkers: 2 },
})
