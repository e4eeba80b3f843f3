/**
 * Reading settings from the environment, shared by both services: every value
 * is checked once at boot, and a bad one stops the start with the variable's
 * name, what it held and what was expected.
 */

export class ConfigError extends Error {
  readonly code = 'VS_CONFIG_INVALID'
  readonly canRetry = false
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export type Env = Record<string, string | undefined>

/** A number setting; empty or unset gives `fallback`. */
export function envNumber(
  env: Env,
  name: string,
  fallback: number,
  { min, max, integer = false }: { min: number; max: number; integer?: boolean },
): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw)
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is invalid; expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    )
  }
  return v
}

/** A string setting matching `re` (described by `expected`); empty or unset gives `fallback`. */
export function envString(
  env: Env,
  name: string,
  fallback: string,
  re?: RegExp,
  expected?: string,
): string {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (re && !re.test(raw)) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is invalid; expected ${expected ?? `to match ${re}`}`,
    )
  }
  return raw
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Settings both services read the same way (CONTRACT.md "Processes, ports, settings"). */
export function sharedSettings(env: Env) {
  return {
    host: envString(env, 'HOST', '0.0.0.0'),
    redisUrl: envString(
      env,
      'REDIS_URL',
      'redis://127.0.0.1:6379',
      /^rediss?:\/\//,
      'a redis:// or rediss:// URL',
    ),
    world: envString(
      env,
      'VERISIM_WORLD',
      'tutoring',
      /^[a-z0-9_-]+$/,
      'a world folder name like "tutoring"',
    ),
    prefix: envString(
      env,
      'VERISIM_PREFIX',
      'vs',
      /^[A-Za-z0-9_.-]+$/,
      'letters, digits, "_", "." or "-"',
    ),
    logLevel: envString(
      env,
      'LOG_LEVEL',
      'info',
      new RegExp(`^(${LOG_LEVELS.join('|')})$`),
      `one of ${LOG_LEVELS.join(', ')}`,
    ),
  }
}
