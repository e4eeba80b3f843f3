/**
 * Parsing and checking option values, with messages that name the flag and the
 * expected form (all UsageError: exit 2).
 */
import { join, resolve } from 'node:path'
import { DEFAULT_WORLDS_DIR } from '@verisim/worlds'
import { UsageError } from '../errors.js'

export const HOUR = 3_600_000

const q = (v: string) => JSON.stringify(v)

/** A world folder name. */
export function parseWorldName(flag: string, v: string): string {
  if (!/^[a-z0-9_-]+$/.test(v))
    throw new UsageError(`${flag} ${q(v)} is invalid; expected a world folder name like "tutoring"`)
  return v
}

/** An engine seed: an integer 0…2³²−1. */
export function parseSeed(flag: string, v: string): number {
  const n = Number(v)
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n > 2 ** 32 - 1)
    throw new UsageError(`${flag} ${q(v)} is invalid; expected an integer from 0 to 4294967295`)
  return n
}

/** An ISO 8601 time (with a date) as epoch ms. */
export function parseTime(flag: string, v: string, extra = ''): number {
  const t = Date.parse(v)
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t) || !sameCalendarDate(v, t))
    throw new UsageError(
      `${flag} ${q(v)} is invalid; expected an ISO 8601 time like 2026-11-23T08:00:00Z${extra}`,
    )
  return t
}

/** Rejects dates JavaScript rolls over (2026-02-30 → March 2). */
function sameCalendarDate(v: string, t: number): boolean {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number]
  const probe = new Date(Date.UTC(y, m - 1, d))
  return (
    probe.getUTCFullYear() === y &&
    probe.getUTCMonth() === m - 1 &&
    probe.getUTCDate() === d &&
    Number.isFinite(t)
  )
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: HOUR,
  d: 24 * HOUR,
  w: 7 * 24 * HOUR,
}

/**
 * A duration: `90m`, `6h`, `30d`, `2w`, combinations like `1d12h`, or ISO 8601 (`P30D`, `PT6H`).
 */
export function parseDuration(flag: string, v: string): number {
  const iso = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(v)
  let ms = Number.NaN
  if (iso && v.length > 1 && !/T$/i.test(v)) {
    const [, w, d, h, m, s] = iso.map((x) => Number(x ?? 0))
    ms = ((((w! * 7 + d!) * 24 + h!) * 60 + m!) * 60 + s!) * 1000
  } else if (/^(\d+[smhdw])+$/.test(v)) {
    ms = 0
    for (const [, n, u] of v.matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * UNIT_MS[u!]!
  }
  if (!(ms > 0))
    throw new UsageError(
      `${flag} ${q(v)} is invalid; expected a positive duration like 90m, 6h, 30d, 1d12h or P30D`,
    )
  return ms
}

/** The worlds folder: the flag, $VERISIM_CONFIG_DIR, else the repository's config/worlds. */
export function configDir(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  return resolve(cwd, flag ?? (env.VERISIM_CONFIG_DIR || DEFAULT_WORLDS_DIR))
}

export { join }
