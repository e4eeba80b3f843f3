import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

describe('generator config', () => {
  it('should use the contract defaults', () => {
    const c = loadConfig({}, 1_700_000_000_000)
    expect(c).toMatchObject({
      port: 8081,
      redisUrl: 'redis://127.0.0.1:6379',
      world: 'tutoring',
      seed: 42,
      speed: 1,
      start: 1_700_000_000_000,
      prefix: 'vs',
      logLevel: 'info',
      snapshotEveryMs: 60_000,
    })
  })

  it('should read an ISO start time', () => {
    expect(loadConfig({ VERISIM_START: '2026-11-23T08:00:00Z' }).start).toBe(
      Date.parse('2026-11-23T08:00:00Z'),
    )
  })

  it.each([
    ['VERISIM_SPEED', '0', /VERISIM_SPEED="0" is invalid; expected a number from 0.1 to 10000/],
    ['VERISIM_SPEED', 'fast', /VERISIM_SPEED/],
    ['VERISIM_SEED', '1.5', /VERISIM_SEED="1.5" is invalid; expected an integer/],
    ['GENERATOR_PORT', '70000', /GENERATOR_PORT/],
    [
      'VERISIM_START',
      'yesterday',
      /VERISIM_START="yesterday" is invalid; expected an ISO 8601 time/,
    ],
    ['REDIS_URL', 'localhost:6379', /REDIS_URL="localhost:6379" is invalid; expected a redis:\/\//],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud" is invalid; expected one of/],
    ['VERISIM_PREFIX', 'a b', /VERISIM_PREFIX/],
    ['VERISIM_SNAPSHOT_EVERY_MS', '10', /VERISIM_SNAPSHOT_EVERY_MS="10" is invalid/],
  ])('should reject %s=%s naming the variable and what was expected', (name, value, re) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(re)
  })
})
