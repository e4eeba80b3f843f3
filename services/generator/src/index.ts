/**
 * @verisim/generator — the worker's building blocks, exported for benchmarks
 * and tests. The process itself starts from `main.ts`.
 */

// Simulation time
export { SimClock } from './clock.js'

// Settings
export { loadConfig, ConfigError, type GeneratorConfig } from './config.js'

// Events → stored entries
export { createEnvelopeEncoder } from '@verisim/bus'

// The loop and its metrics
export { GeneratorLoop, type LoopOptions } from './loop.js'
export { createMetrics, type GeneratorMetrics } from './metrics.js'

// Housekeeping job (BullMQ): zombie consumer groups, stream trimming
export {
  CleanupJob,
  runCleanup,
  CLEANUP_QUEUE,
  CLEANUP_SCHEDULER_ID,
  type CleanupJobOptions,
  type CleanupReport,
  type CleanupSettings,
} from './jobs/cleanup.js'
