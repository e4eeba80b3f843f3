/**
 * The archiver's settings, read once from the environment and validated; a
 * bad value stops the start with the variable's name and what was expected.
 */
import { ConfigError, envNumber as num, envString, sharedSettings, type Env } from '@verisim/schema'
import { DEFAULT_DATABASE_URL } from '@verisim/archive'

export interface ArchiverConfig {
  port: number
  host: string
  redisUrl: string
  world: string
  prefix: string
  logLevel: string
  databaseUrl: string
  /** PostgreSQL schema the archive lives in. */
  schema: string
  /** Consumer name in the `archiver` group; keep it stable so a restart takes its own pending entries. */
  consumer: string
  batchSize: number
  flushMs: number
  /** Batches written at once. */
  writers: number
}

export { ConfigError }

export function loadConfig(env: Env = process.env): ArchiverConfig {
  return {
    ...sharedSettings(env),
    port: num(env, 'ARCHIVER_PORT', 8082, { min: 0, max: 65535, integer: true }),
    databaseUrl: envString(
      env,
      'DATABASE_URL',
      DEFAULT_DATABASE_URL,
      /^postgres(ql)?:\/\//,
      'a postgres:// or postgresql:// URL',
    ),
    schema: envString(
      env,
      'ARCHIVE_SCHEMA',
      'public',
      /^[a-z_][a-z0-9_]{0,62}$/,
      'a lower-case PostgreSQL identifier like "public" or "verisim"',
    ),
    consumer: envString(
      env,
      'ARCHIVER_CONSUMER',
      'archiver-1',
      /^[A-Za-z0-9_.-]{1,64}$/,
      'letters, digits, "_", "." or "-" (at most 64)',
    ),
    batchSize: num(env, 'ARCHIVER_BATCH', 10_000, { min: 1, max: 100_000, integer: true }),
    flushMs: num(env, 'ARCHIVER_FLUSH_MS', 200, { min: 1, max: 60_000, integer: true }),
    writers: num(env, 'ARCHIVER_WRITERS', 2, { min: 1, max: 8, integer: true }),
  }
}
