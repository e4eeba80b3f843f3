/**
 * `verisim score`: scores a detector's detections (stream + time window) against
 * a generated run's ground truth (`verisim generate` writes it beside the
 * events): precision, recall and time to detect, per incident and overall.
 *
 * A truth item is a stream a cause moved (`moved: true` in the ground truth's
 * `causes`), over the span of the events carrying that cause. It is detected
 * when a detection on that stream (or on `*`) overlaps the span, extended by
 * `--grace` at the end. A detection is a true positive when it overlaps a truth
 * item of its stream; otherwise it is a false alarm (those overlapping a red
 * herring's window on a stream the red herring names are counted apart).
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { parse } from 'csv-parse/sync'
import { CliFailure, UsageError } from '../errors.js'
import type { Io } from '../io.js'
import { fsReason } from '../lib/files.js'
import { parseDuration } from '../lib/options.js'
import type { GroundTruth } from '../generate/truth.js'

export interface Detection {
  stream: string
  start: number
  end: number
}

interface TruthItem {
  incident: string
  cause: string
  stream: string
  start: number
  end: number
}

export interface IncidentScore {
  incident: string
  title: string
  start: string
  items: number
  detected: number
  /** Minutes from the incident's first moved stream's start to its first detection; null when undetected. */
  timeToDetectMin: number | null
}

export interface Score {
  detections: number
  truePositives: number
  falseAlarms: number
  /** False alarms on a red herring's streams during its window. */
  fooledByRedHerrings: number
  precision: number
  items: number
  itemsDetected: number
  recall: number
  incidents: IncidentScore[]
  incidentRecall: number
  timeToDetectMin: { median: number | null; p90: number | null; max: number | null }
}

const MINUTE = 60_000

/** Detections from NDJSON, a JSON array, or CSV with columns stream,start[,end]. */
export function parseDetections(text: string, source: string): Detection[] {
  const trimmed = text.trim()
  let rows: Record<string, unknown>[]
  try {
    if (trimmed === '') rows = []
    else if (trimmed.startsWith('[')) rows = JSON.parse(trimmed) as Record<string, unknown>[]
    else if (trimmed.startsWith('{'))
      rows = trimmed
        .split(/\r?\n/)
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
    else
      rows = parse(trimmed, { columns: true, skip_empty_lines: true, trim: true }) as Record<
        string,
        unknown
      >[]
  } catch (err) {
    throw new CliFailure(`${source} is not NDJSON, a JSON array or CSV: ${(err as Error).message}`)
  }
  return rows.map((r, i) => {
    const where = `${source}: detection ${i + 1}`
    if (typeof r !== 'object' || r === null) throw new CliFailure(`${where} is not an object`)
    const stream = r.stream
    if (typeof stream !== 'string' || stream === '')
      throw new CliFailure(
        `${where} has no "stream"; expected {"stream": "<name or *>", "start": "<ISO>", "end": "<ISO>"}`,
      )
    const time = (k: 'start' | 'end', v: unknown): number => {
      const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN
      if (!Number.isFinite(t))
        throw new CliFailure(
          `${where} has an invalid "${k}" ${JSON.stringify(v)}; expected an ISO 8601 time or epoch ms`,
        )
      return t
    }
    const start = time('start', r.start)
    const end = r.end === undefined || r.end === '' ? start : time('end', r.end)
    if (end < start) throw new CliFailure(`${where} ends before it starts`)
    return { stream, start, end }
  })
}

function truthItems(truth: GroundTruth): {
  items: TruthItem[]
  titles: Map<string, { title: string }>
} {
  const items: TruthItem[] = []
  const titles = new Map<string, { title: string }>()
  // a scenario run is one incident with all its causes; an external event not from a scenario is its own
  const incidentOf = new Map<string, string>()
  for (const s of truth.scenarios as {
    runId: string
    id: string
    name: string
    causes: string[]
  }[]) {
    const key = `scenario ${s.id} (${s.runId})`
    titles.set(key, { title: s.name })
    for (const c of s.causes) incidentOf.set(c, key)
  }
  const herrings = new Set<string>()
  for (const x of truth.externalEvents as {
    cause: string
    title: string
    redHerring: boolean
    source: string
  }[]) {
    if (x.redHerring) herrings.add(x.cause)
    if (!incidentOf.has(x.cause)) {
      const key = `external ${x.cause.slice('external:'.length)}`
      titles.set(key, { title: x.title })
      incidentOf.set(x.cause, key)
    }
  }
  for (const c of truth.causes) {
    if (herrings.has(c.cause)) continue
    const incident = incidentOf.get(c.cause) ?? c.cause
    if (!titles.has(incident)) titles.set(incident, { title: c.cause })
    for (const s of c.streams)
      if (s.moved)
        items.push({
          incident,
          cause: c.cause,
          stream: s.stream,
          start: Date.parse(s.first),
          end: Date.parse(s.last),
        })
  }
  return { items, titles }
}

const overlaps = (d: Detection, a: number, b: number) => d.start <= b && d.end >= a
const matches = (d: Detection, stream: string) => d.stream === '*' || d.stream === stream

function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

export function scoreDetections(
  truth: GroundTruth,
  detections: readonly Detection[],
  graceMs: number,
): Score {
  const { items, titles } = truthItems(truth)
  const herrings = (
    truth.externalEvents as {
      redHerring: boolean
      window: { start: string; end: string }
      expectedImpact?: { streams?: string[] }
    }[]
  )
    .filter((x) => x.redHerring)
    .map((x) => ({
      start: Date.parse(x.window.start),
      end: Date.parse(x.window.end),
      streams: x.expectedImpact?.streams ?? [],
    }))
  let tp = 0
  let fooled = 0
  for (const d of detections) {
    if (items.some((it) => matches(d, it.stream) && overlaps(d, it.start, it.end + graceMs))) tp++
    else if (
      herrings.some(
        (h) =>
          overlaps(d, h.start, h.end) &&
          h.streams.some(
            (p) =>
              p === d.stream ||
              p === '*' ||
              (p.endsWith('.*') && d.stream.startsWith(p.slice(0, -1))),
          ),
      )
    )
      fooled++
  }
  const byIncident = new Map<
    string,
    { items: number; detected: number; start: number; first: number | null }
  >()
  let detectedItems = 0
  const delays: number[] = []
  for (const it of items) {
    const inc = byIncident.get(it.incident) ?? {
      items: 0,
      detected: 0,
      start: it.start,
      first: null,
    }
    inc.items++
    inc.start = Math.min(inc.start, it.start)
    const hit = detections.filter(
      (d) => matches(d, it.stream) && overlaps(d, it.start, it.end + graceMs),
    )
    if (hit.length > 0) {
      detectedItems++
      inc.detected++
      const first = Math.max(it.start, Math.min(...hit.map((d) => d.start)))
      inc.first = inc.first === null ? first : Math.min(inc.first, first)
    }
    byIncident.set(it.incident, inc)
  }
  const incidents: IncidentScore[] = [...byIncident.entries()]
    .sort((a, b) => a[1].start - b[1].start)
    .map(([incident, x]) => {
      const ttd = x.first === null ? null : Math.round(((x.first - x.start) / MINUTE) * 10) / 10
      if (ttd !== null) delays.push(ttd)
      return {
        incident,
        title: titles.get(incident)?.title ?? incident,
        start: new Date(x.start).toISOString(),
        items: x.items,
        detected: x.detected,
        timeToDetectMin: ttd,
      }
    })
  const n = detections.length
  return {
    detections: n,
    truePositives: tp,
    falseAlarms: n - tp,
    fooledByRedHerrings: fooled,
    precision: n === 0 ? 0 : tp / n,
    items: items.length,
    itemsDetected: detectedItems,
    recall: items.length === 0 ? 0 : detectedItems / items.length,
    incidents,
    incidentRecall:
      incidents.length === 0
        ? 0
        : incidents.filter((i) => i.detected > 0).length / incidents.length,
    timeToDetectMin: {
      median: quantile(delays, 0.5),
      p90: quantile(delays, 0.9),
      max: delays.length ? Math.max(...delays) : null,
    },
  }
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new CliFailure(`${flag} ${path}: cannot read it: ${fsReason(err)}`)
  }
}

export function registerScore(program: Command, io: Io): void {
  program
    .command('score')
    .description("score a detector's detections against a generated run's ground truth")
    .option(
      '--truth <file>',
      'ground truth written by verisim generate (<name>.truth.json); required',
    )
    .option(
      '--detections <file>',
      'detections: NDJSON or a JSON array of {stream, start, end}, or CSV with those columns; required',
    )
    .option(
      '--grace <d>',
      'how long after a moved stream settles a detection still counts (default: 30m)',
    )
    .addOption(
      new Option(
        '--format <format>',
        'text, or json for the figures as JSON (default: text)',
      ).choices(['text', 'json']),
    )
    .addHelpText(
      'after',
      `
A truth item is a stream a cause moved (ground truth "causes[].streams[]" with
"moved": true) over the span of the events carrying it; a scenario run is one
incident, an external event outside scenarios another. Red herrings are never
truth: detections on their streams in their window are false alarms, counted
apart as "fooled by red herrings". "stream": "*" matches every stream.

Example:
  verisim generate --start 2026-03-02T00:00:00Z --duration 3d --scenario payment-outage@+30h --out run.ndjson
  my-detector < run.ndjson > detections.ndjson
  verisim score --truth run.truth.json --detections detections.ndjson
`,
    )
    .action((flags: { truth?: string; detections?: string; grace?: string; format?: string }) => {
      if (!flags.truth)
        throw new UsageError('score needs --truth <file> (written by verisim generate)')
      if (!flags.detections) throw new UsageError('score needs --detections <file>')
      const grace = flags.grace === undefined ? 30 * MINUTE : parseDuration('--grace', flags.grace)
      const truthPath = resolve(io.cwd, flags.truth)
      let truth: GroundTruth
      try {
        truth = JSON.parse(readText(truthPath, '--truth')) as GroundTruth
      } catch (err) {
        if (err instanceof CliFailure) throw err
        throw new CliFailure(`--truth ${truthPath}: not JSON (${(err as Error).message})`)
      }
      if (
        !Array.isArray(truth?.causes) ||
        !Array.isArray(truth?.scenarios) ||
        !Array.isArray(truth?.externalEvents)
      )
        throw new CliFailure(
          `--truth ${truthPath}: not a ground-truth file of verisim generate (expected "scenarios", "externalEvents" and "causes")`,
        )
      const detPath = resolve(io.cwd, flags.detections)
      const detections = parseDetections(readText(detPath, '--detections'), detPath)
      const s = scoreDetections(truth, detections, grace)
      if (flags.format === 'json') {
        io.stdout.write(`${JSON.stringify(s, null, 2)}\n`)
        return
      }
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`
      const lines = [
        `precision ${pct(s.precision)}  (${s.truePositives} of ${s.detections} detections on a moved stream; ${s.falseAlarms} false alarms, ${s.fooledByRedHerrings} of them on red herrings)`,
        `recall    ${pct(s.recall)}  (${s.itemsDetected} of ${s.items} moved streams detected; ${pct(s.incidentRecall)} of ${s.incidents.length} incidents)`,
        `time to detect  median ${s.timeToDetectMin.median ?? '–'} min, p90 ${s.timeToDetectMin.p90 ?? '–'} min, max ${s.timeToDetectMin.max ?? '–'} min`,
        '',
        ...s.incidents.map(
          (i) =>
            `  ${i.start.slice(0, 16)}Z  ${i.incident.padEnd(34)} ${String(i.detected).padStart(3)}/${String(i.items).padEnd(3)} ${i.timeToDetectMin === null ? 'missed' : `${i.timeToDetectMin} min`}`,
        ),
      ]
      io.stdout.write(`${lines.join('\n')}\n`)
    })
}
