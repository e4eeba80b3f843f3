/**
 * UTC calendar arithmetic on epoch milliseconds, without `Date`: the engine keeps
 * time as numbers and only needs the hour, the weekday and the month/day.
 */

export const SECOND = 1000
export const MINUTE = 60_000
export const HOUR = 3_600_000
export const DAY = 86_400_000
/** Growth is quoted per month; a month is 30 days here. */
export const MONTH = 30 * DAY

/** Hour of the day, 0–23 (UTC). */
export function hourOfDay(ms: number): number {
  return Math.floor((((ms % DAY) + DAY) % DAY) / HOUR)
}

/** Day of the week, 0 = Sunday … 6 = Saturday (UTC). 1970-01-01 was a Thursday. */
export function dayOfWeek(ms: number): number {
  const d = Math.floor(ms / DAY)
  return (((d + 4) % 7) + 7) % 7
}

/** Civil date of a UTC day number (days since 1970-01-01), after H. Hinnant's `civil_from_days`. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  return { year, month, day }
}

/** `month * 100 + day` of a UTC instant, e.g. 1124 for 24 November. */
export function monthDay(ms: number): number {
  const c = civilFromDays(Math.floor(ms / DAY))
  return c.month * 100 + c.day
}

/** Parses `MM-DD` into `month * 100 + day`. */
export function parseMonthDay(s: string): number {
  const m = /^(\d\d)-(\d\d)$/.exec(s)
  if (!m) throw new Error(`not a MM-DD date: ${s}`)
  return Number(m[1]) * 100 + Number(m[2])
}

/** Whether `md` lies in the inclusive period `from`–`to`, which may wrap the year end. */
export function inPeriod(md: number, from: number, to: number): boolean {
  return from <= to ? md >= from && md <= to : md >= from || md <= to
}
