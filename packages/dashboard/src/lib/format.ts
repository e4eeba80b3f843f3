/**
 * Formatting and the ticking simulation clock. Simulation times are shown in
 * UTC, as the gateway reports them.
 */
import { formatIsoDuration, parseIsoDuration as parseIsoDurationMs } from '@verisim/schema'

const pad = (n: number) => String(n).padStart(2, '0')

/** `2026-11-23 10:15:07` (UTC). */
export function formatSimTime(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`
}

/** `Mon 10:15` (UTC): short form for lists. */
export function formatShort(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  const d = new Date(ms)
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]
  return `${day} ${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
}

/** `2 d 3 h`, `5 h 20 min`, `12 min`, `40 s`: a span of simulation time. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  const neg = ms < 0
  let s = Math.round(Math.abs(ms) / 1000)
  const d = Math.floor(s / 86_400)
  s -= d * 86_400
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  const out =
    d > 0
      ? h
        ? `${d} d ${h} h`
        : `${d} d`
      : h > 0
        ? m
          ? `${h} h ${m} min`
          : `${h} h`
        : m > 0
          ? `${m} min`
          : `${s} s`
  return neg ? `−${out}` : out
}

/** `1×`, `0.5×`, `10 000×`. */
export function formatSpeed(x: number): string {
  const s = Number.isInteger(x) ? String(x) : String(Math.round(x * 100) / 100)
  return `${s.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')}×`
}

/** Below this share of the requested speed the header says what is really kept. */
export const LAGGING_RATIO = 0.9

/**
 * The header's speed: the requested one, or, when the generator keeps less
 * than 90 % of it, both (`requested 10 000× — running 1 900×`).
 */
export function formatSpeedKept(
  speed: number,
  effective: number | undefined,
  running: boolean,
): { text: string; lagging: boolean } {
  if (!running || effective === undefined || effective >= LAGGING_RATIO * speed) {
    return { text: formatSpeed(speed), lagging: false }
  }
  const kept = effective >= 100 ? Number(effective.toPrecision(3)) : effective
  return {
    text: `requested ${formatSpeed(speed)} — running ${formatSpeed(kept)}`,
    lagging: true,
  }
}

/**
 * Parses a span like `90m`, `2h`, `1d 6h`, `-3h`, `45s` (simulation time) into
 * ms; null when it is not one.
 */
export function parseSpan(text: string): number | null {
  const t = text.trim().toLowerCase().replace(/\s+/g, '')
  if (!t) return null
  const m = /^([+-]?)((?:\d+(?:\.\d+)?(?:d|h|m|min|s))+)$/.exec(t)
  if (!m) return null
  const unit: Record<string, number> = {
    d: 86_400_000,
    h: 3_600_000,
    m: 60_000,
    min: 60_000,
    s: 1000,
  }
  let total = 0
  for (const part of (m[2] as string).matchAll(/(\d+(?:\.\d+)?)(min|d|h|m|s)/g)) {
    total += Number(part[1]) * (unit[part[2] as string] as number)
  }
  return m[1] === '-' ? -total : total
}

export interface ClockSample {
  /** Simulation time reported (ms). */
  sim: number
  /** Wall time (ms, this browser's clock) the report describes. */
  wall: number
  speed: number
  running: boolean
}

/**
 * The simulation clock as of wall time `now`: the last report advanced by the
 * speed while running. Never runs backwards by less than a minute of
 * simulation time (small report jitter), but follows real jumps (a reset).
 */
export function simNow(
  sample: ClockSample | null,
  now: number,
  shownBefore = Number.NEGATIVE_INFINITY,
): number {
  if (!sample) return Number.NaN
  const t = sample.running ? sample.sim + Math.max(0, now - sample.wall) * sample.speed : sample.sim
  if (t < shownBefore && shownBefore - t < 60_000) return shownBefore
  return t
}

/**
 * The wall time a state report describes: its `updatedAt` when this browser's
 * clock agrees with the server's within 5 s, else the time it was received.
 */
export function reportWallTime(updatedAt: string | undefined, receivedAt: number): number {
  const u = updatedAt ? Date.parse(updatedAt) : Number.NaN
  return Number.isFinite(u) && Math.abs(receivedAt - u) < 5000 && u <= receivedAt ? u : receivedAt
}

/**
 * ISO 8601 duration (`PT8H`, `P2DT6H`, `PT90M`) → ms; null when it is not one.
 * The generator's reading (`@verisim/schema`), so the page accepts exactly what
 * the control actions will; surrounding spaces are ignored.
 */
export function parseIsoDuration(text: string): number | null {
  return parseIsoDurationMs(text.trim()) ?? null
}

/**
 * ms → ISO 8601 duration in whole seconds, largest units first (`PT2H`,
 * `P1DT6H`, `PT1H30M`, `PT45S`); what the control actions take where the page
 * lets you type `2h`. Negative spans give `PT0S`.
 */
export function toIsoDuration(ms: number): string {
  return formatIsoDuration(Math.max(0, Math.round(ms / 1000)) * 1000)
}

/** A duration as the server wrote it, made readable: ISO 8601 → `8 h`; anything else unchanged. */
export function readableDuration(text: string): string {
  const ms = parseIsoDuration(text)
  return ms === null ? text : formatDuration(ms)
}
