import { describe, expect, it } from 'vitest'
import {
  parseDiffQuery,
  parseHistoryQuery,
  parseHistoryTime,
  parseStatisticsQuery,
  parseStreamList,
} from '../../../src/routes/api/history-query.js'

const F = Date.UTC(2026, 10, 1)
const H = 3_600_000

function badRequest(fn: () => unknown): { code: string; statusCode: number; message: string } {
  try {
    fn()
  } catch (err) {
    expect(err).toMatchObject({ code: 'VS_GW_BAD_REQUEST', statusCode: 400 })
    return err as { code: string; statusCode: number; message: string }
  }
  throw new Error('expected a bad request')
}

describe('history query strings', () => {
  it('should read "now", a time without an offset as UTC, and an unencoded + offset', () => {
    expect(parseHistoryTime('end', 'now')).toBe('now')
    expect(parseHistoryTime('end', ' NOW ')).toBe('now')
    expect(parseHistoryTime('end', '2026-11-01T06:00')).toBe(F + 6 * H)
    expect(parseHistoryTime('end', '2026-11-01')).toBe(F)
    expect(parseHistoryTime('end', '2026-11-01T07:00:00 01:00')).toBe(F + 6 * H)
    expect(parseHistoryTime('end', '2026-11-01T07:00:00+01:00')).toBe(F + 6 * H)
  })

  it('should name the parameter and what was expected', () => {
    let e = badRequest(() => parseHistoryQuery({ start: 'yesterday' }))
    expect(e.message).toMatch(/^start must be an ISO 8601 time .* or "now", got "yesterday"$/)
    e = badRequest(() => parseHistoryQuery({ end: '2026-13-45T00:00:00Z' }))
    expect(e.message).toMatch(/^end must be an ISO 8601 time/)
    e = badRequest(() => parseHistoryQuery({ interval: '5m' }))
    expect(e.message).toBe('interval must be one of 15m, 1h, 12h, got "5m"')
    badRequest(() => parseStatisticsQuery({ interval: '1d' }))
    badRequest(() => parseDiffQuery({ interval: '2h' }))
  })

  it('should split the stream list, leaving its check against the stored history to the reader', () => {
    expect(parseStreamList(' a, b,,a ')).toEqual(['a', 'b', 'a'])
    expect(parseStreamList('')).toEqual([])
    expect(parseStreamList(undefined)).toBeUndefined()
    expect(parseHistoryQuery({ streams: 'nope' }).streams).toEqual(['nope'])
  })

  it('should leave out what the query does not give, so the reader applies its defaults', () => {
    expect(parseHistoryQuery({})).toEqual({})
    expect(parseHistoryQuery({ interval: '' })).toEqual({})
    expect(
      parseHistoryQuery({ start: '2026-11-01', end: 'now', interval: '1h', streams: 'a,m' }),
    ).toEqual({ start: F, end: 'now', interval: '1h', streams: ['a', 'm'] })
    expect(parseStatisticsQuery({ streams: 'm', interval: '15m' })).toEqual({
      streams: ['m'],
      interval: '15m',
    })
    expect(parseDiffQuery({})).toEqual({})
    expect(parseDiffQuery({ version: 0, interval: '1h' })).toEqual({ version: 0, interval: '1h' })
  })
})
