/**
 * The generator's settings, read once from the environment and validated
 * (CONTRACT.md "Processes, ports, settings"). A bad value stops the start with
 * the variable's name and what was expected.
 */
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { ConfigError, envNumber as num, envString, sharedSettings, type Env } from '@verisim/schema'

export interface GeneratorConfig {
  port: number
  host: string
  redisUrl: string
  world: string
  seed: number
  speed: number
  /** Simulation start, epoch ms. */
  start: number
  /** VERISIM_START was set: begin a new run there instead of continuing the previous one. */
  startGiven: boolean
  prefix: string
  logLevel: string
  configDir: string
  /** Approximate entries kept per channel stream (`MAXLEN ~`). */
  retention: number
  /** Wall milliseconds between simulation steps. */
  tickMs: number
  /**
   * Simulated hours run (and discarded) before the start, so the world is in
   * its steady state from the first live event: sessions booked, tickets open.
   */
  /** Simulated hours run before going live; undefined: the world module's own (tutoring: 240). */
  warmupHours: number | undefined
  /** Period of the cleanup job (zombie consumer groups, stream trimming). */
  cleanupEveryMs: number
  /** Modified history versions kept in Redis (the served one included); older ones are deleted. */
  historyKeepVersions: number
  /** Simulated days of history served back from now; older live buckets are deleted. */
  historyDays: number
  /** Time window kept per channel stream (`MINID` trim by the cleanup job); 0 keeps by count only. */
  retentionMs: number
  /** Wall milliseconds between engine snapshots (a restart restores the latest plus the commands after it). */
  snapshotEveryMs: number
  /** Simulated hours between the automatic snapshots time travel starts from (kept in memory, thinned as they age). */
  timelineEveryHours: number
  /** Saved snapshots kept at most (the run's start and timelines' return points included). */
  snapshotsMax: number
}

export { ConfigError }

const here = path.dirname(fileURLToPath(import.meta.url))
/** `config/worlds` of the repository this file was built in (services/generator/dist → ../../../). */
export const DEFAULT_CONFIG_DIR = path.resolve(here, '../../../config/worlds')

/** Reads and validates the settings; throws `ConfigError` naming the variable. */
export function loadConfig(env: Env = process.env, now = Date.now()): GeneratorConfig {
  const startRaw = env.VERISIM_START
  let start = now
  if (startRaw !== undefined && startRaw !== '' && startRaw !== 'now') {
    start = Date.parse(startRaw)
    if (!/^\d{4}-\d{2}-\d{2}/.test(startRaw) || Number.isNaN(start)) {
      throw new ConfigError(
        `VERISIM_START=${JSON.stringify(startRaw)} is invalid; expected an ISO 8601 time like 2026-11-23T08:00:00Z, or "now"`,
      )
    }
  }
  return {
    ...sharedSettings(env),
    port: num(env, 'GENERATOR_PORT', 8081, { min: 0, max: 65535, integer: true }),
    seed: num(env, 'VERISIM_SEED', 42, { min: 0, max: 2 ** 32 - 1, integer: true }),
    speed: num(env, 'VERISIM_SPEED', 1, { min: 0.1, max: 10000 }),
    start,
    startGiven: startRaw !== undefined && startRaw !== '' && startRaw !== 'now',
    configDir: path.resolve(envString(env, 'VERISIM_CONFIG_DIR', DEFAULT_CONFIG_DIR)),
    retention: num(env, 'VERISIM_RETENTION', 100_000, {
      min: 100,
      max: 100_000_000,
      integer: true,
    }),
    tickMs: num(env, 'VERISIM_TICK_MS', 50, { min: 5, max: 5000, integer: true }),
    warmupHours:
      env.VERISIM_WARMUP_HOURS === undefined || env.VERISIM_WARMUP_HOURS === ''
        ? undefined
        : num(env, 'VERISIM_WARMUP_HOURS', 0, { min: 0, max: 24 * 30, integer: true }),
    cleanupEveryMs: num(env, 'VERISIM_CLEANUP_EVERY_MS', 30_000, {
      min: 100,
      max: 86_400_000,
      integer: true,
    }),
    retentionMs: num(env, 'VERISIM_RETENTION_MS', 0, {
      min: 0,
      max: 365 * 86_400_000,
      integer: true,
    }),
    historyDays: num(env, 'VERISIM_HISTORY_DAYS', 60, { min: 1, max: 3650, integer: true }),
    historyKeepVersions: num(env, 'VERISIM_HISTORY_KEEP_VERSIONS', 10, {
      min: 1,
      max: 1000,
      integer: true,
    }),
    snapshotEveryMs: num(env, 'VERISIM_SNAPSHOT_EVERY_MS', 60_000, {
      min: 100,
      max: 86_400_000,
      integer: true,
    }),
    timelineEveryHours: num(env, 'VERISIM_TIMELINE_EVERY_HOURS', 3, { min: 0.25, max: 168 }),
    snapshotsMax: num(env, 'VERISIM_SNAPSHOTS_MAX', 50, { min: 2, max: 1000, integer: true }),
  }
}
