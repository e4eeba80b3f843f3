/**
 * ISO 8601 durations as the scenario and external-event files write them (`PT8H`,
 * `P3D`, `P1DT12H`, `-PT3H`): weeks, days, hours, minutes and seconds only, since
 * years and months have no fixed length in milliseconds.
 */
import { DAY, HOUR, MINUTE, SECOND } from './calendar.js'

const RE = /^(-)?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

/**
 * Milliseconds of an ISO 8601 duration, or `undefined` when `s` is not one
 * (`signed` also accepts a leading `-`).
 *
 * @example
 * parseIsoDuration('P1DT12H') // 129_600_000
 * parseIsoDuration('-PT3H', { signed: true }) // -10_800_000
 */
export function parseIsoDuration(s: string, opts: { signed?: boolean } = {}): number | undefined {
  const m = RE.exec(s)
  if (!m) return undefined
  if (m[1] !== undefined && !opts.signed) return undefined
  const [, , w, d, h, min, sec] = m
  if (
    w === undefined &&
    d === undefined &&
    h === undefined &&
    min === undefined &&
    sec === undefined
  )
    return undefined
  if (s.endsWith('T')) return undefined
  const ms =
    Number(w ?? 0) * 7 * DAY +
    Number(d ?? 0) * DAY +
    Number(h ?? 0) * HOUR +
    Number(min ?? 0) * MINUTE +
    Math.round(Number(sec ?? 0) * SECOND)
  return m[1] === undefined ? ms : -ms
}

/**
 * The ISO 8601 form of a non-negative number of milliseconds, largest units first.
 *
 * @example
 * formatIsoDuration(20 * HOUR) // 'PT20H'
 * formatIsoDuration(4 * DAY + 30 * MINUTE) // 'P4DT30M'
 */
export function formatIsoDuration(ms: number): string {
  const sign = ms < 0 ? '-' : ''
  let rest = Math.round(Math.abs(ms))
  const d = Math.floor(rest / DAY)
  rest -= d * DAY
  const h = Math.floor(rest / HOUR)
  rest -= h * HOUR
  const m = Math.floor(rest / MINUTE)
  rest -= m * MINUTE
  const s = rest / SECOND
  let out = `${sign}P${d > 0 ? `${d}D` : ''}`
  if (h > 0 || m > 0 || s > 0)
    out += `T${h > 0 ? `${h}H` : ''}${m > 0 ? `${m}M` : ''}${s > 0 ? `${s}S` : ''}`
  return out === `${sign}P` ? 'PT0S' : out
}
