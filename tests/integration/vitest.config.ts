import { defineConfig } from 'vitest/config'

/**
 * Every file, one after another (each starts its own services): what `vitest run`
 * or `vitest run test/<file>` runs. `pnpm test` runs the same files in two
 * passes instead (package.json): {@link CONCURRENT_FILES} two at a time, then the
 * rest one after another (vitest.serial.config.ts).
 */
export const BASE = { testTimeout: 60_000, hookTimeout: 60_000 }

/**
 * Files that bound no latency or duration (only outcomes, with generous
 * deadlines): they can share the 2 cores with each other. The others assert
 * times (a paint within 1 s, p99 ≤ 250 ms, back within 5 s, a 10,000× run) that
 * assume the machine is theirs.
 */
export const CONCURRENT_FILES = [
  'test/adjust-behavior.test.ts',
  'test/admin-archive.browser.test.ts',
  'test/cli.test.ts',
  'test/compose.test.ts',
  'test/control.test.ts',
  'test/hardening.test.ts',
  'test/history.test.ts',
  'test/restart.test.ts',
  'test/scenarios.test.ts',
  'test/sdk-resume.property.test.ts',
  'test/time-travel.test.ts',
  'test/world-actions.test.ts',
]

export default defineConfig({ test: { ...BASE, fileParallelism: false } })
