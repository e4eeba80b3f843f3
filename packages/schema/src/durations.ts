/**
 * ISO 8601 durations as scenario and external-event files write them (`PT8H`,
 * `P3D`, `P1DT12H`, `-PT3H`) and as control actions take them: weeks, days,
 * hours, minutes and seconds only, since years and months have no fixed length
 * in milliseconds. One implementation for the engine, the services and the
 * admin page.
 */

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const RE = /^(-)?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

/**
 * Milliseconds of an ISO 8601 duration, or `undefined` when `s` is not one
 * (`signed` also accepts a leading `-`). Only seconds may have a fraction;
 * they are rounded to the millisecond.
 *
 * @example
 * parseIsoDuration('P1DT12H') // 129_600_000
 * parseIsoDuration('-PT3H') // undefined
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
  // `P1DT` matches the expression (every time part is optional) but is not a duration.
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
 * The ISO 8601 form of a number of milliseconds, largest units first (days at
 * most, never weeks); negative numbers get a leading `-`.
 *
 * @example
 * formatIsoDuration(20 * 3_600_000) // 'PT20H'
 * formatIsoDuration(4 * 86_400_000 + 30 * 60_000) // 'P4DT30M'
 * formatIsoDuration(0) // 'PT0S'
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
