/**
 * The gateway's settings, read once from the environment and validated. A bad
 * value stops the start with the variable's name and what was expected.
 */
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { ConfigError, envNumber, envString, sharedSettings, type Env } from '@verisim/schema'

export interface GatewayConfig {
  port: number
  host: string
  redisUrl: string
  world: string
  prefix: string
  logLevel: string
  adminToken: string | null
  instanceId: string
  batchMs: number
  /** Per-client bound on unsent bytes before it is closed as a slow consumer. */
  maxClientBufferBytes: number
  /** Interval of server pings on WebSocket; a client silent for 3 intervals is closed. */
  pingIntervalMs: number
  sseHeartbeatMs: number
  /**
   * How long a WebSocket closed by the gateway (a slow consumer) keeps its
   * connection for the client to read what was queued and the close frame.
   */
  closeGraceMs: number
  /** Requests per client per window to each expensive read (history, events lists …); 0 = no limit. */
  rateLimitMax: number
  rateLimitWindowMs: number
  /** Bytes of compressed history responses kept in memory. */
  historyCacheBytes: number
  /** History responses built at the same time (the rest wait their turn). */
  historyBuilds: number
  /** PostgreSQL of the archive (journeys, whole-run queries, replay, aggregates); null: the archive is off. */
  databaseUrl: string | null
  /** PostgreSQL schema the archive lives in. */
  archiveSchema: string
}

export { ConfigError }

const int = (env: Env, name: string, fallback: number, min: number, max: number) =>
  envNumber(env, name, fallback, { min, max, integer: true })

export function loadConfig(env: Env = process.env): GatewayConfig {
  return {
    ...sharedSettings(env),
    port: int(env, 'PORT', 8080, 0, 65535),
    adminToken: env.ADMIN_TOKEN ? env.ADMIN_TOKEN : null,
    instanceId: envString(
      env,
      'GATEWAY_INSTANCE_ID',
      `${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '')}-${process.pid}-${randomBytes(3).toString('hex')}`,
      /^[A-Za-z0-9_.-]{1,100}$/,
      'letters, digits, "_", "." or "-" (at most 100)',
    ),
    batchMs: int(env, 'VERISIM_BATCH_MS', 100, 10, 5000),
    maxClientBufferBytes: int(
      env,
      'VERISIM_MAX_CLIENT_BUFFER',
      8 * 1024 * 1024,
      64 * 1024,
      1024 ** 3,
    ),
    pingIntervalMs: int(env, 'VERISIM_PING_INTERVAL_MS', 30_000, 100, 600_000),
    sseHeartbeatMs: int(env, 'VERISIM_SSE_HEARTBEAT_MS', 15_000, 100, 600_000),
    closeGraceMs: int(env, 'VERISIM_CLOSE_GRACE_MS', 120_000, 1000, 3_600_000),
    rateLimitMax: int(env, 'VERISIM_RATE_LIMIT_MAX', 60, 0, 1_000_000),
    rateLimitWindowMs: int(env, 'VERISIM_RATE_LIMIT_WINDOW_MS', 60_000, 1000, 86_400_000),
    historyCacheBytes: int(env, 'VERISIM_HISTORY_CACHE_MB', 64, 0, 4096) * 1024 * 1024,
    historyBuilds: int(env, 'VERISIM_HISTORY_BUILDS', 1, 1, 16),
    databaseUrl:
      envString(
        env,
        'DATABASE_URL',
        '',
        /^postgres(ql)?:\/\//,
        'a postgres:// or postgresql:// URL',
      ) || null,
    archiveSchema: envString(
      env,
      'ARCHIVE_SCHEMA',
      'public',
      /^[a-z_][a-z0-9_]{0,62}$/,
      'a lower-case PostgreSQL identifier like "public" or "verisim"',
    ),
  }
}
