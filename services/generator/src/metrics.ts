/**
 * Prometheus metrics of the generator (`GET /metrics`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'verisim_generator_' })
  return {
    registry,
    eventsWritten: new Counter({
      name: 'verisim_generator_events_written_total',
      help: 'Events written to Redis Streams, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    simTime: new Gauge({
      name: 'verisim_generator_simulation_time_seconds',
      help: 'Current simulation time (Unix seconds)',
      registers: [registry],
    }),
    speed: new Gauge({
      name: 'verisim_generator_speed',
      help: 'Simulation seconds per wall second',
      registers: [registry],
    }),
    requestedSpeed: new Gauge({
      name: 'verisim_requested_speed',
      help: 'Simulation seconds per wall second asked for (VERISIM_SPEED / set_speed)',
      registers: [registry],
    }),
    effectiveSpeed: new Gauge({
      name: 'verisim_effective_speed',
      help: 'Simulation seconds per wall second actually kept over the last 5 s (below the requested speed when the generator cannot keep up; 0 paused)',
      registers: [registry],
    }),
    tickSeconds: new Histogram({
      name: 'verisim_generator_tick_seconds',
      help: 'Wall time of one simulation step: advance the engine and write to Redis',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    slips: new Counter({
      name: 'verisim_generator_clock_slips_total',
      help: 'Times the generator could not keep up and slowed simulation time down',
      registers: [registry],
    }),
    cleanupRuns: new Counter({
      name: 'verisim_generator_cleanup_runs_total',
      help: 'Runs of the cleanup job (zombie consumer groups, stream trimming), by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    cleanupZombies: new Counter({
      name: 'verisim_generator_cleanup_zombie_groups_total',
      help: 'Consumer groups of dead gateway instances destroyed (one per stream)',
      registers: [registry],
    }),
    cleanupAcked: new Counter({
      name: 'verisim_generator_cleanup_pending_acked_total',
      help: 'Pending entries of dead consumers claimed and acknowledged before their group was destroyed',
      registers: [registry],
    }),
    cleanupTrimmed: new Counter({
      name: 'verisim_generator_cleanup_trimmed_entries_total',
      help: 'Stream entries removed by the cleanup job to keep the retention window',
      registers: [registry],
    }),
    cleanupSeconds: new Histogram({
      name: 'verisim_generator_cleanup_run_seconds',
      help: 'Wall time of one cleanup run',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    cleanupLastRun: new Gauge({
      name: 'verisim_generator_cleanup_last_run_timestamp_seconds',
      help: 'Unix time of the last successful cleanup run',
      registers: [registry],
    }),
    writeErrors: new Counter({
      name: 'verisim_generator_write_errors_total',
      help: 'Failed writes to Redis (retried)',
      registers: [registry],
    }),
  }
}
export type GeneratorMetrics = ReturnType<typeof createMetrics>
