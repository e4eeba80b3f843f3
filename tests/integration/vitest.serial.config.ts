import { configDefaults, defineConfig } from 'vitest/config'
import { BASE, CONCURRENT_FILES } from './vitest.config.js'

// The files that bound times, one after another on an otherwise idle machine (see vitest.config.ts).
export default defineConfig({
  test: {
    ...BASE,
    exclude: [...configDefaults.exclude, ...CONCURRENT_FILES],
    fileParallelism: false,
  },
})
