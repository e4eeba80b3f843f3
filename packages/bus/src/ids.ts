/**
 * Event ids: `<ms>-<seq>`, valid Redis stream ids assigned by the generator,
 * strictly increasing across all channels of a world. `ms` follows the wall
 * clock (never going back, so a restarted generator continues after its last
 * id); `seq` counts events within one millisecond.
 */

export interface EventId {
  ms: number
  seq: number
}

const ID_RE = /^(\d{1,15})-(\d{1,15})$/

export function parseId(id: string): EventId {
  const m = ID_RE.exec(id)
  if (!m) throw new TypeError(`invalid event id ${JSON.stringify(id)}; expected "<ms>-<seq>"`)
  return { ms: Number(m[1]), seq: Number(m[2]) }
}

export function isEventId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id)
}

export function formatId(id: EventId): string {
  return `${id.ms}-${id.seq}`
}

/** Total order of ids: negative when a < b, zero when equal, positive when a > b. */
export function compareIds(a: string, b: string): number {
  const da = a.indexOf('-')
  const db = b.indexOf('-')
  const ma = Number(a.slice(0, da))
  const mb = Number(b.slice(0, db))
  if (ma !== mb) return ma - mb
  return Number(a.slice(da + 1)) - Number(b.slice(db + 1))
}

export function maxId(a: string | null, b: string | null): string | null {
  if (a === null) return b
  if (b === null) return a
  return compareIds(a, b) >= 0 ? a : b
}

/**
 * Issues strictly increasing ids.
 *
 * @example
 * const ids = createIdSequence('1700000000000-4')
 * ids.next(1700000000000) // '1700000000000-5'
 * ids.next(1699999999999) // '1700000000000-6' (the clock went back; ids don't)
 * ids.next(1700000000002) // '1700000000002-0'
 */
export function createIdSequence(after: string | null = null) {
  let ms = -1
  let seq = 0
  if (after !== null) {
    const p = parseId(after)
    ms = p.ms
    seq = p.seq
  }
  /** `${ms}-`, converted once per millisecond. */
  let prefix = `${ms}-`
  return {
    next(nowMs: number): string {
      const t = Math.floor(nowMs)
      if (t > ms) {
        ms = t
        seq = 0
        prefix = `${ms}-`
        return `${prefix}0`
      }
      seq += 1
      return prefix + seq
    },
    /** The last id issued (or the starting point), `null` before any. */
    last(): string | null {
      return ms < 0 ? null : `${ms}-${seq}`
    },
  }
}
export type IdSequence = ReturnType<typeof createIdSequence>
