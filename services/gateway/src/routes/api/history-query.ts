/**
 * Reading the history routes' query strings into the requests the history
 * reader takes (`@verisim/bus`): times (ISO 8601 or `now`), the interval name
 * and the comma list of streams. What needs the stored history (unknown
 * streams, start before end once `now` is known, the point cap) is checked by
 * the reader; a malformed parameter is refused here, before Redis is asked.
 */
import {
  HISTORY_INTERVALS,
  HistoryInterval,
  type HistoryDiffRequest,
  type HistoryIntervalName,
  type HistoryRequest,
  type HistoryStatisticsRequest,
  type HistoryTime,
} from '@verisim/bus'
import { parseIsoTime } from '@verisim/schema'
import { BadRequestError } from '../../errors.js'

/** `GET /api/simulation/history` query string. */
export interface HistoryQuery {
  /** ISO 8601 or `now`; default `end` − 7 days. */
  start?: string
  /** ISO 8601 or `now` (the current simulation time); default `now`. Exclusive. */
  end?: string
  /** Comma list of stream names; default every stream. */
  streams?: string
  /** `12h` (default), `1h` or `15m`. */
  interval?: string
}

/** `GET /api/simulation/statistics` query string. */
export interface HistoryStatisticsQuery {
  streams?: string
  interval?: string
}

/** `GET /api/simulation/history/diff` query string (`version` already an integer). */
export interface HistoryDiffQuery {
  version?: number
  interval?: string
}

/**
 * `now` or an ISO 8601 time (a time without an offset is UTC), as epoch ms. A
 * day or time that does not exist (`2026-02-30`) is refused, not rolled over:
 * the same check bodies get (`parseIsoTime` of `@verisim/schema`).
 *
 * @example
 * parseHistoryTime('start', '2026-11-20T12:00:00Z') // 1795176000000
 * parseHistoryTime('end', 'now') // 'now'
 */
export function parseHistoryTime(param: string, raw: string): HistoryTime {
  // An unencoded "+01:00" offset arrives as " 01:00" (a "+" in a query string is a space).
  const s = raw.trim().replace(/(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$/i, '$1+$2')
  if (s.toLowerCase() === 'now') return 'now'
  const ms = parseIsoTime(s)
  if (ms === null) {
    throw new BadRequestError(
      `${param} must be an ISO 8601 time on a calendar day that exists (e.g. 2026-11-20T12:00:00Z) or "now", got ${JSON.stringify(raw.slice(0, 100))}`,
    )
  }
  return ms
}

/** An interval name; undefined (the reader's default) when absent or empty. */
export function parseHistoryInterval(raw: string | undefined): HistoryIntervalName | undefined {
  if (raw === undefined || raw === '') return undefined
  if (Object.hasOwn(HistoryInterval, raw)) return raw as HistoryIntervalName
  throw new BadRequestError(
    `interval must be one of ${HISTORY_INTERVALS.join(', ')}, got ${JSON.stringify(raw)}`,
  )
}

/**
 * The names of a comma list, trimmed, empty ones dropped; an empty list means
 * every stream to the reader.
 *
 * @example
 * parseStreamList(' a, b,,a ') // ['a', 'b', 'a']
 */
export function parseStreamList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/**
 * @example
 * parseHistoryQuery({ start: '2026-11-16', interval: '1h' })
 * // { start: 1794787200000, interval: '1h' }
 */
export function parseHistoryQuery(query: HistoryQuery): HistoryRequest {
  const request: HistoryRequest = {}
  if (query.start !== undefined) request.start = parseHistoryTime('start', query.start)
  if (query.end !== undefined) request.end = parseHistoryTime('end', query.end)
  const interval = parseHistoryInterval(query.interval)
  if (interval !== undefined) request.interval = interval
  const streams = parseStreamList(query.streams)
  if (streams !== undefined) request.streams = streams
  return request
}

export function parseStatisticsQuery(query: HistoryStatisticsQuery): HistoryStatisticsRequest {
  const request: HistoryStatisticsRequest = {}
  const interval = parseHistoryInterval(query.interval)
  if (interval !== undefined) request.interval = interval
  const streams = parseStreamList(query.streams)
  if (streams !== undefined) request.streams = streams
  return request
}

export function parseDiffQuery(query: HistoryDiffQuery): HistoryDiffRequest {
  const request: HistoryDiffRequest = {}
  if (query.version !== undefined) request.version = query.version
  const interval = parseHistoryInterval(query.interval)
  if (interval !== undefined) request.interval = interval
  return request
}
