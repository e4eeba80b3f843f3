/**
 * The control commands' local checks, before anything is sent: the speed, the
 * `--json` objects and `--at`. Against a running simulator:
 * tests/integration/test/cli-live.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { parseAt, parseJsonObject, parseSpeed } from '../../src/commands/control.js'
import { UsageError } from '../../src/errors.js'

describe('parseSpeed', () => {
  it('should read a multiplier within the gateway range', () => {
    expect(parseSpeed('60')).toBe(60)
    expect(parseSpeed('0.5')).toBe(0.5)
    expect(parseSpeed('10x')).toBe(10)
    expect(parseSpeed('10000')).toBe(10000)
  })

  it.each(['fast', '0', '0.01', '10001', '-5', '1e3', ''])('should refuse %j', (v) => {
    expect(() => parseSpeed(v)).toThrow(UsageError)
    expect(() => parseSpeed(v)).toThrow(`speed <multiplier> ${JSON.stringify(v)} is invalid`)
  })
})

describe('parseJsonObject', () => {
  it('should return the object', () => {
    expect(parseJsonObject('--json', '{"count":5}', '{}')).toEqual({ count: 5 })
  })

  it('should name the flag for text that is not JSON or not an object', () => {
    expect(() => parseJsonObject('--json', '{count:5}', '{"count":5}')).toThrow(
      /^--json "\{count:5\}" is not valid JSON \(.+\); expected an object like '\{"count":5\}'$/,
    )
    expect(() => parseJsonObject('--json', '[1]', '{}')).toThrow('found an array')
    expect(() => parseJsonObject('--json', 'null', '{}')).toThrow('found null')
    expect(() => parseJsonObject('--json', '"x"', '{}')).toThrow('found a string')
  })
})

describe('parseAt', () => {
  it('should read an ISO time, now, or a duration from now', () => {
    expect(parseAt('2026-11-23T08:00:00Z')).toEqual({ at: Date.parse('2026-11-23T08:00:00Z') })
    expect(parseAt('now')).toEqual({ offsetMs: 0 })
    expect(parseAt('+2h')).toEqual({ offsetMs: 7_200_000 })
    expect(parseAt('-30m')).toEqual({ offsetMs: -1_800_000 })
  })

  it.each(['tomorrow', '+soon', '2026-02-30T00:00:00Z', '+'])('should refuse %j', (v) => {
    expect(() => parseAt(v)).toThrow(`--at ${JSON.stringify(v)} is invalid`)
  })
})
