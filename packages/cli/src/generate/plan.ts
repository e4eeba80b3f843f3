/**
 * What `verisim generate` will do, from its flags: the world, seed and span, the
 * timed commands (scenarios, external events, world actions), the stream filter
 * and the output. Every bad value is a UsageError naming the flag.
 */
import { extname, resolve } from 'node:path'
import { streamPatternMatcher } from '@verisim/schema'
import { UsageError } from '../errors.js'
import { configDir, parseDuration, parseSeed, parseTime, parseWorldName } from '../lib/options.js'

export const FORMATS = ['ndjson', 'csv', 'parquet'] as const
export type Format = (typeof FORMATS)[number]

/** A command applied to the engine at a simulation time; `flag` is how it reads in messages and the ground truth, with the time in ISO. */
export type TimedCommand =
  | { kind: 'scenario'; at: number; id: string; flag: string }
  | { kind: 'external'; at: number; templateId: string; flag: string }
  | { kind: 'action'; at: number; name: string; payload: unknown; flag: string }

export interface GeneratePlan {
  world: string
  seed: number
  start: number
  end: number
  /** Unset: the world module's own warm-up (as the generator). */
  warmupHours: number | undefined
  configDir: string
  commands: TimedCommand[]
  /** Stream patterns (`*`, `<prefix>.*`, exact names); empty: every stream. */
  streams: string[]
  format: Format
  /** `-` (standard output), a file, or with `split` a folder. */
  out: string
  /** One file per channel (`<out>/<channel>.<ext>`) instead of one in all. */
  split: boolean
  /** Ground-truth file; null: none (the default when writing to standard output). */
  truth: string | null
}

export interface GenerateFlags {
  world?: string
  seed?: string
  start?: string
  end?: string
  duration?: string
  warmupHours?: string
  configDir?: string
  scenario?: string[]
  external?: string[]
  action?: string[]
  streams?: string[]
  format?: string
  out?: string
  split?: boolean
  truth?: string | boolean
}

const q = (v: string) => JSON.stringify(v)
const iso = (t: number) => new Date(t).toISOString()
const HOUR = 3_600_000
const DAY = 24 * HOUR

/** `<what>@<time>`: the part before the last `@` and the time (ISO, or `+<duration>` after start). */
function splitAt(flag: string, v: string, form: string, start: number): [string, number] {
  const at = v.lastIndexOf('@')
  if (at <= 0 || at === v.length - 1)
    throw new UsageError(`${flag} ${q(v)} is invalid; expected ${form}`)
  const when = v.slice(at + 1)
  const t = when.startsWith('+')
    ? start + parseDuration(`${flag} time`, when.slice(1))
    : /^\d{4}-/.test(when)
      ? parseTime(`${flag} time`, when, ', or +<duration> after --start (+6h)')
      : start + parseDuration(`${flag} time`, when)
  return [v.slice(0, at), t]
}

export function generatePlan(
  flags: GenerateFlags,
  env: NodeJS.ProcessEnv,
  now: number,
  cwd: string,
): GeneratePlan {
  const world = parseWorldName('--world', flags.world ?? (env.VERISIM_WORLD || 'tutoring'))
  const seed = parseSeed('--seed', flags.seed ?? (env.VERISIM_SEED || '42'))
  const start =
    flags.start === undefined || flags.start === 'now'
      ? Math.floor(now / HOUR) * HOUR
      : parseTime('--start', flags.start, ', or "now" (the current hour)')
  if (flags.end !== undefined && flags.duration !== undefined)
    throw new UsageError('--end and --duration exclude each other; give one')
  let end = start + DAY
  if (flags.end !== undefined) {
    end = parseTime('--end', flags.end)
    if (end <= start)
      throw new UsageError(
        `--end ${q(flags.end)} is invalid; expected a time after --start (${new Date(start).toISOString()})`,
      )
  } else if (flags.duration !== undefined) end = start + parseDuration('--duration', flags.duration)
  const warmRaw = flags.warmupHours ?? env.VERISIM_WARMUP_HOURS ?? ''
  let warmupHours: number | undefined
  if (warmRaw !== '') {
    warmupHours = Number(warmRaw)
    if (!/^\d+$/.test(warmRaw) || warmupHours > 24 * 30)
      throw new UsageError(
        `--warmup-hours ${q(warmRaw)} is invalid; expected an integer from 0 to 720`,
      )
  }

  const commands: TimedCommand[] = []
  const inSpan = (flag: string, v: string, t: number) => {
    if (t < start || t >= end)
      throw new UsageError(
        `${flag} ${q(v)} is invalid; its time ${new Date(t).toISOString()} is outside the run [${new Date(start).toISOString()}, ${new Date(end).toISOString()})`,
      )
  }
  for (const v of flags.scenario ?? []) {
    const [id, at] = splitAt(
      '--scenario',
      v,
      '<scenario id>@<time>, like exam-season-surge@+6h',
      start,
    )
    inSpan('--scenario', v, at)
    commands.push({ kind: 'scenario', at, id, flag: `--scenario ${id}@${iso(at)}` })
  }
  for (const v of flags.external ?? []) {
    const [templateId, at] = splitAt(
      '--external',
      v,
      '<template id>@<time>, like viral-blog-post@2026-03-02T12:00:00Z',
      start,
    )
    inSpan('--external', v, at)
    commands.push({ kind: 'external', at, templateId, flag: `--external ${templateId}@${iso(at)}` })
  }
  for (const v of flags.action ?? []) {
    const form = `<action>@<time>=<JSON payload>, like 'spawn_students@+2h={"count":50}'`
    const eq = v.indexOf('=')
    if (eq <= 0) throw new UsageError(`--action ${q(v)} is invalid; expected ${form}`)
    const [name, at] = splitAt('--action', v.slice(0, eq), form, start)
    let payload: unknown
    try {
      payload = JSON.parse(v.slice(eq + 1))
    } catch (err) {
      throw new UsageError(
        `--action ${q(v)} is invalid: its payload is not JSON (${(err as Error).message}); expected ${form}`,
      )
    }
    inSpan('--action', v, at)
    commands.push({
      kind: 'action',
      at,
      name,
      payload,
      flag: `--action ${name}@${iso(at)}=${JSON.stringify(payload)}`,
    })
  }
  // Applied in time order; at the same time, in the order given.
  commands.sort((a, b) => a.at - b.at)

  const streams = (flags.streams ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean)
  for (const p of streams)
    if (!/^(\*|[a-z0-9_]+(\.[a-z0-9_-]+)*(\.\*)?)$/i.test(p))
      throw new UsageError(
        `--streams ${q(p)} is invalid; expected stream names or patterns like session.* or * (comma-separated)`,
      )

  const out = flags.out ?? '-'
  const byExt: Record<string, Format> = {
    '.ndjson': 'ndjson',
    '.jsonl': 'ndjson',
    '.csv': 'csv',
    '.parquet': 'parquet',
  }
  let format: Format = 'ndjson'
  if (flags.format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(flags.format))
      throw new UsageError(
        `--format ${q(flags.format)} is invalid; expected one of ${FORMATS.join(', ')}`,
      )
    format = flags.format as Format
  } else if (out !== '-' && !flags.split) format = byExt[extname(out).toLowerCase()] ?? 'ndjson'
  const split = flags.split === true
  if (out === '-' && split)
    throw new UsageError('--split writes one file per channel; it needs --out <dir>')
  if (out === '-' && format === 'parquet')
    throw new UsageError(
      '--format parquet needs --out <file|dir> (Parquet is not written to standard output)',
    )
  const outPath = out === '-' ? '-' : resolve(cwd, out)
  let truth: string | null = null
  if (typeof flags.truth === 'string') truth = resolve(cwd, flags.truth)
  else if (flags.truth !== false && outPath !== '-')
    truth = split
      ? resolve(outPath, 'ground-truth.json')
      : `${outPath.replace(/\.(ndjson|jsonl|csv|parquet)$/i, '')}.truth.json`
  return {
    world,
    seed,
    start,
    end,
    warmupHours,
    configDir: configDir(flags.configDir, env, cwd),
    commands,
    streams,
    format,
    out: outPath,
    split,
    truth,
  }
}

/** A predicate for the streams `patterns` name (every stream when empty). */
export function streamFilter(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => true
  const ms = patterns.map(streamPatternMatcher)
  return (name) => ms.some((m) => m(name))
}
