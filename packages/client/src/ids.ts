/**
 * Event ids: `<ms>-<seq>` (a Redis stream id the generator assigns), the total
 * order the client dedupes and resumes by. Compared numerically, ms then seq,
 * without allocating: ids arrive at thousands per second.
 */

const ID_RE = /^[0-9]{1,15}-[0-9]{1,15}$/

/** True when `id` is a well-formed event id. */
export function isEventId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id)
}

/**
 * Total order of event ids: negative when `a < b`, zero when equal, positive
 * when `a > b`. Both must be well-formed (see `isEventId`).
 *
 * @example
 * compareIds('1732350000000-9', '1732350000000-10') // < 0
 */
export function compareIds(a: string, b: string): number {
  const da = a.indexOf('-')
  const db = b.indexOf('-')
  const ms = Number(a.slice(0, da)) - Number(b.slice(0, db))
  if (ms !== 0) return ms
  return Number(a.slice(da + 1)) - Number(b.slice(db + 1))
}
