/**
 * The gateway's settings, read once from the environment and validated. A bad
 * value stops the start with the variable's name and what was expected.
 */
import os from 'node:os'
import { randomBytes } from 'node:crypto'

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
}

export class ConfigError extends Error {
  readonly code = 'VS_GW_CONFIG'
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw)
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is invalid; expected an integer from ${min} to ${max}`,
    )
  }
  return v
}

function str(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: string,
  re?: RegExp,
  expected?: string,
) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (re && !re.test(raw))
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid; expected ${expected}`)
  return raw
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const level = /^(fatal|error|warn|info|debug|trace|silent)$/
  return {
    port: num(env, 'PORT', 8080, 0, 65535),
    host: str(env, 'HOST', '0.0.0.0'),
    redisUrl: str(
      env,
      'REDIS_URL',
      'redis://127.0.0.1:6379',
      /^rediss?:\/\//,
      'a redis:// or rediss:// URL',
    ),
    world: str(
      env,
      'VERISIM_WORLD',
      'tutoring',
      /^[a-z0-9_-]+$/,
      'a world folder name like "tutoring"',
    ),
    prefix: str(
      env,
      'VERISIM_PREFIX',
      'vs',
      /^[A-Za-z0-9_.-]+$/,
      'letters, digits, "_", "." or "-"',
    ),
    logLevel: str(
      env,
      'LOG_LEVEL',
      'info',
      level,
      'one of fatal, error, warn, info, debug, trace, silent',
    ),
    adminToken: env.ADMIN_TOKEN ? env.ADMIN_TOKEN : null,
    instanceId: str(
      env,
      'GATEWAY_INSTANCE_ID',
      `${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '')}-${process.pid}-${randomBytes(3).toString('hex')}`,
      /^[A-Za-z0-9_.-]{1,100}$/,
      'letters, digits, "_", "." or "-" (at most 100)',
    ),
    batchMs: num(env, 'VERISIM_BATCH_MS', 100, 10, 5000),
    maxClientBufferBytes: num(
      env,
      'VERISIM_MAX_CLIENT_BUFFER',
      8 * 1024 * 1024,
      64 * 1024,
      1024 ** 3,
    ),
    pingIntervalMs: num(env, 'VERISIM_PING_INTERVAL_MS', 30_000, 100, 600_000),
    sseHeartbeatMs: num(env, 'VERISIM_SSE_HEARTBEAT_MS', 15_000, 100, 600_000),
  }
}
