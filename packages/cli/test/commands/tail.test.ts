/**
 * `verisim tail`'s pieces that need no server: its settings from flags and
 * environment (every bad value naming its flag) and the pretty line. Against a
 * running simulator: tests/integration/test/cli-live.test.ts.
 */
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { StreamEvent } from '@verisim/client'
import { formatPretty, keyFields, tailSettings } from '../../src/commands/tail.js'
import { UsageError } from '../../src/errors.js'
import type { Io } from '../../src/io.js'

function io(tty: boolean, env: NodeJS.ProcessEnv = {}): Io {
  const w = new Writable({ write: (_c, _e, cb) => cb() }) as Writable & { isTTY?: boolean }
  w.isTTY = tty
  return { stdout: w, stderr: w, env, cwd: '/' }
}

const event = (over: Partial<StreamEvent> = {}): StreamEvent =>
  ({
    id: '1732350000000-17',
    world: 'tutoring',
    stream: 'session.completed',
    channel: 'session',
    timestamp: '2026-11-23T10:15:00.000Z',
    data: { sessionId: 'ses_8f2', tutorId: 'tut_19', studentId: 'stu_4411', durationMin: 55 },
    normalizedValue: 52.3,
    anomalyFlag: 'normal',
    causes: [],
    ...over,
  }) as StreamEvent

describe('tailSettings', () => {
  it('should default to every stream from now, pretty on a terminal and ndjson when piped', () => {
    const tty = tailSettings({}, io(true))
    expect(tty).toMatchObject({
      server: { base: 'http://127.0.0.1:8080', token: undefined },
      topics: ['*'],
      lastId: null,
      format: 'pretty',
      limit: undefined,
      forMs: undefined,
      retries: 10,
      color: true,
    })
    expect(tailSettings({}, io(false)).format).toBe('ndjson')
    expect(tailSettings({}, io(true, { NO_COLOR: '1' })).color).toBe(false)
  })

  it('should take the gateway and token from the flags, else VERISIM_URL and VERISIM_TOKEN', () => {
    const env = { VERISIM_URL: 'https://sim.example.com/verisim/', VERISIM_TOKEN: 't1' }
    expect(tailSettings({}, io(false, env)).server).toEqual({
      base: 'https://sim.example.com/verisim',
      token: 't1',
    })
    expect(
      tailSettings({ url: 'http://10.0.0.2:9000', token: 't2' }, io(false, env)).server,
    ).toEqual({ base: 'http://10.0.0.2:9000', token: 't2' })
  })

  it('should read topics, --last-id, --limit, --for and --retries', () => {
    const s = tailSettings(
      {
        topics: 'session.*, anomalies,session.*',
        lastId: '1732350000000-17',
        limit: '5',
        for: '90s',
        retries: '0',
      },
      io(false),
    )
    expect(s).toMatchObject({
      topics: ['session.*', 'anomalies'],
      lastId: '1732350000000-17',
      limit: 5,
      forMs: 90_000,
      retries: 0,
    })
  })

  it.each([
    [{ url: 'ftp://x' }, '--url "ftp://x" is invalid; expected http(s)://host:port'],
    [{ url: 'localhost:8080' }, '--url "localhost:8080" is invalid'],
    [{ url: 'http://h:1/?a=1' }, '--url "http://h:1/?a=1" is invalid'],
    [{ lastId: '42' }, '--last-id "42" is invalid; expected an event id <ms>-<seq>'],
    [{ format: 'json' }, '--format "json" is invalid; expected pretty or ndjson'],
    [{ limit: '-1' }, '--limit "-1" is invalid; expected an integer ≥ 1'],
    [{ for: 'a while' }, '--for "a while" is invalid'],
    [{ retries: 'x' }, '--retries "x" is invalid; expected an integer ≥ 0'],
    [{ topics: ' , ' }, '--topics " , " is invalid'],
  ])('should refuse %j naming the flag', (flags, message) => {
    expect(() => tailSettings(flags, io(false))).toThrow(UsageError)
    expect(() => tailSettings(flags, io(false))).toThrow(message)
  })

  it('should name VERISIM_URL when the bad address comes from it', () => {
    expect(() => tailSettings({}, io(false, { VERISIM_URL: 'nope' }))).toThrow(
      'VERISIM_URL="nope" is invalid',
    )
  })
})

describe('formatPretty', () => {
  it('should show the simulation time, stream, first data fields, value and flag', () => {
    expect(formatPretty(event(), false)).toBe(
      `2026-11-23 10:15:00  ${'session.completed'.padEnd(30)}  ` +
        `${'sessionId=ses_8f2 tutorId=tut_19 studentId=stu_4411 durationMin=55'.padEnd(72)}   52.3 normal`,
    )
  })

  it('should add the causes', () => {
    expect(formatPretty(event({ causes: ['scenario:payment-outage'] }), false)).toMatch(
      / 52\.3 normal {2}← scenario:payment-outage$/,
    )
  })

  it('should colour warnings yellow and criticals red, and nothing without colour', () => {
    const warning = formatPretty(event({ anomalyFlag: 'warning', normalizedValue: 81 }), true)
    expect(warning).toContain('\x1b[33msession.completed')
    expect(warning).toContain('\x1b[33m 81.0\x1b[39m')
    const critical = formatPretty(event({ anomalyFlag: 'critical', normalizedValue: 97 }), true)
    expect(critical).toContain('\x1b[31msession.completed')
    expect(critical).toMatch(/\x1b\[31m\x1b\[1mcritical/)
    expect(formatPretty(event({ anomalyFlag: 'critical' }), false)).not.toContain('\x1b[')
  })
})

describe('keyFields', () => {
  it('should keep scalar fields only, at most 4, whole, within the column', () => {
    expect(keyFields({ a: 1, nested: { x: 1 }, list: [1], b: true, c: 'x', d: 2, e: 3 })).toBe(
      'a=1 b=true c=x d=2',
    )
    expect(keyFields({ s: 'x'.repeat(40) })).toBe(`s=${'x'.repeat(21)}…`)
    const long = keyFields({ a: 'a'.repeat(22), b: 'b'.repeat(22), c: 'c'.repeat(22), d: 1 })
    // a third 24-character field would pass the 72-character column: left out whole
    expect(long).toBe(`a=${'a'.repeat(22)} b=${'b'.repeat(22)}`)
    expect(keyFields(null)).toBe('')
  })
})
