import { describe, expect, it } from 'vitest'
import {
  jsonTooDeep,
  MAX_FRAME_BYTES,
  MAX_JSON_DEPTH,
  parseClientFrame,
  parseIsoTime,
  ProtocolErrorCode,
} from '../src/index.js'

describe('parseClientFrame', () => {
  it('should accept a subscribe with topics and a resume id', () => {
    const r = parseClientFrame(
      '{"type":"subscribe","topics":["customer.*"],"lastId":"1732350000000-17"}',
    )
    expect(r).toEqual({
      ok: true,
      message: { type: 'subscribe', topics: ['customer.*'], lastId: '1732350000000-17' },
    })
  })

  it('should accept every message type of the contract', () => {
    for (const frame of [
      '{"type":"unsubscribe","topics":["*"]}',
      '{"type":"ping"}',
      '{"type":"pong"}',
      '{"type":"auth","token":"t"}',
      '{"type":"control","requestId":"r1","action":"set_speed","payload":{"multiplier":5}}',
      '{"type":"subscribe","topics":["*"],"lastTimestamp":"2026-11-23T10:15:00.000Z"}',
    ]) {
      expect(parseClientFrame(frame).ok, frame).toBe(true)
    }
  })

  it('should name invalid JSON', () => {
    const r = parseClientFrame('{"type":')
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.code).toBe(ProtocolErrorCode.badJson)
      expect(r.message).toMatch(/not valid JSON/)
    }
  })

  it.each([
    ['null', /got null/],
    ['[1,2]', /got an array/],
    ['"hi"', /got string/],
    ['{"topics":["*"]}', /no string "type"/],
  ])('should reject %s as a bad message', (frame, re) => {
    const r = parseClientFrame(frame)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.code).toBe(ProtocolErrorCode.badMessage)
      expect(r.message).toMatch(re)
    }
  })

  it('should name an unknown type and list the valid ones', () => {
    const r = parseClientFrame('{"type":"subscrbe","topics":["*"]}')
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.code).toBe(ProtocolErrorCode.unknownType)
      expect(r.message).toContain('"subscrbe"')
      expect(r.message).toContain('subscribe, unsubscribe, ping, pong, auth, control')
    }
  })

  it('should not treat inherited names as message types', () => {
    const r = parseClientFrame('{"type":"toString"}')
    expect(r.ok === false && r.code).toBe(ProtocolErrorCode.unknownType)
  })

  it.each([
    ['{"type":"subscribe","topics":[1]}', '/topics/0: must be string'],
    ['{"type":"subscribe","topics":[]}', '/topics: must not have fewer than 1 items'],
    ['{"type":"subscribe"}', 'missing required field "topics"'],
    ['{"type":"subscribe","topics":["*"],"extra":1}', 'unexpected field "extra"'],
    ['{"type":"subscribe","topics":["*"],"lastId":"abc"}', '/lastId'],
    ['{"type":"control","requestId":"r","action":"explode"}', '/action'],
  ])('should name the wrong field in %s', (frame, fragment) => {
    const r = parseClientFrame(frame)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.code).toBe(ProtocolErrorCode.invalidMessage)
      expect(r.message).toContain(fragment)
    }
  })

  it('should echo the requestId of an invalid control message', () => {
    const r = parseClientFrame('{"type":"control","requestId":"abc","action":"nope"}')
    expect(r.ok === false && r.requestId).toBe('abc')
  })

  it('should refuse frames over the size limit before parsing them', () => {
    const big = JSON.stringify({ type: 'subscribe', topics: ['x'.repeat(MAX_FRAME_BYTES)] })
    const r = parseClientFrame(big)
    expect(r.ok === false && r.code).toBe(ProtocolErrorCode.frameTooLarge)
  })
})

describe('jsonTooDeep (issue 14: a 50,000-deep body overflowed the stack)', () => {
  it('should find nesting past the limit in one pass, without recursion', () => {
    expect(jsonTooDeep('[[[1]]]', 3)).toBe(false)
    expect(jsonTooDeep('[[[1]]]', 2)).toBe(true)
    expect(jsonTooDeep(`${'['.repeat(50_000)}${']'.repeat(50_000)}`)).toBe(true)
    expect(
      jsonTooDeep(`{"a":${'{"b":'.repeat(MAX_JSON_DEPTH - 1)}1${'}'.repeat(MAX_JSON_DEPTH)}`),
    ).toBe(false)
  })

  it('should not count brackets inside strings', () => {
    expect(jsonTooDeep(JSON.stringify({ s: '[[[[[[[[[[' }), 2)).toBe(false)
    expect(jsonTooDeep(JSON.stringify({ s: 'a\\"[[[[' }), 2)).toBe(false)
  })

  it('should answer a too-deep frame with VS_GW_TOO_DEEP', () => {
    const r = parseClientFrame(`{"type":"ping","x":${'['.repeat(100)}${']'.repeat(100)}}`)
    expect(r).toMatchObject({ ok: false, code: 'VS_GW_TOO_DEEP' })
  })
})

describe('parseIsoTime (issue 14: history accepted 2026-02-30)', () => {
  it('should refuse days and times that do not exist instead of rolling them over', () => {
    expect(parseIsoTime('2026-02-30')).toBeNull()
    expect(parseIsoTime('2026-02-29T00:00:00Z')).toBeNull()
    expect(parseIsoTime('2026-13-01')).toBeNull()
    expect(parseIsoTime('2026-01-01T24:00:00Z')).toBeNull()
    expect(parseIsoTime('2026-01-01T12:60Z')).toBeNull()
    expect(parseIsoTime('soon')).toBeNull()
  })

  it('should read real dates, leap days and offsets; no offset is UTC', () => {
    expect(parseIsoTime('2028-02-29')).toBe(Date.UTC(2028, 1, 29))
    expect(parseIsoTime('2026-02-28T12:00:00Z')).toBe(Date.UTC(2026, 1, 28, 12))
    expect(parseIsoTime('2026-02-28T12:00:00')).toBe(Date.UTC(2026, 1, 28, 12))
    expect(parseIsoTime('2026-02-28T13:00:00+01:00')).toBe(Date.UTC(2026, 1, 28, 12))
  })
})
