/**
 * `verisim generate`: the envelope on every line, the same bytes for the same
 * arguments, each format read back by an independent reader (csv-parse,
 * hyparquet), one file per channel, the stream filter, the ground truth, and
 * bad flags refused with exit 2 naming the flag.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileValidator, StreamEventSchema } from '@verisim/schema'
import { WORLD_MODULES } from '@verisim/worlds'
import { run, runBin } from './helpers.js'

const START = '2026-03-02T06:00:00Z'
/** A short run: 6 simulated hours after a 24-hour warm-up. */
const BASE = [
  'generate',
  '--seed',
  '7',
  '--start',
  START,
  '--duration',
  '6h',
  '--warmup-hours',
  '24',
]
const validEvent = compileValidator(StreamEventSchema)

let tmp: string
let lines: string[]
let ndjsonBytes: Buffer

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'verisim-generate-'))
  const r = await run([
    ...BASE,
    '--scenario',
    'exam-season-surge@+2h',
    '--out',
    join(tmp, 'a.ndjson'),
  ])
  expect(r.code, r.stderr).toBe(0)
  ndjsonBytes = readFileSync(join(tmp, 'a.ndjson'))
  lines = ndjsonBytes.toString().trimEnd().split('\n')
}, 120_000)
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('verisim generate: NDJSON', () => {
  it('should write one contract envelope per line, in id order, within the span', () => {
    expect(lines.length).toBeGreaterThan(50_000)
    let prev = ''
    const from = Date.parse(START)
    for (const line of lines.filter((_, i) => i % 97 === 0)) {
      const e = JSON.parse(line)
      expect(validEvent.problems(e), line).toEqual([])
      expect(e.world).toBe('tutoring')
      const ts = Date.parse(e.timestamp)
      expect(ts).toBeGreaterThan(from)
      expect(ts).toBeLessThanOrEqual(from + 6 * 3_600_000)
      // ids come from the simulation clock
      expect(e.id.split('-')[0]).toBe(String(ts))
      expect(prev < e.id.padStart(30) || prev === '').toBe(true)
      prev = e.id.padStart(30)
    }
  })

  it('should mark the events the scenario shaped with its cause, from its start on', () => {
    const caused = lines
      .map((l) => JSON.parse(l))
      .filter((e) => e.causes.includes('scenario:exam-season-surge'))
    expect(caused.length).toBeGreaterThan(1000)
    const first = caused.reduce((m, e) => Math.min(m, Date.parse(e.timestamp)), Infinity)
    expect(first).toBeGreaterThanOrEqual(Date.parse(START) + 2 * 3_600_000)
  })

  it('should write checksums that match the files, and the same bytes for the same arguments', async () => {
    const manifest = readFileSync(join(tmp, 'a.sha256'), 'utf8').trim().split('\n')
    expect(manifest).toHaveLength(2)
    for (const line of manifest) {
      const [hash, name] = line.split(/\s+/)
      expect(sha(readFileSync(join(tmp, name!)))).toBe(hash)
    }
    const again = await run([
      ...BASE,
      '--scenario',
      'exam-season-surge@2026-03-02T08:00:00Z',
      '--out',
      join(tmp, 'b.ndjson'),
    ])
    expect(again.code, again.stderr).toBe(0)
    expect(readFileSync(join(tmp, 'b.ndjson')).equals(ndjsonBytes)).toBe(true)
    const hashes = (f: string) =>
      readFileSync(join(tmp, f), 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[0])
    expect(hashes('b.sha256')).toEqual(hashes('a.sha256'))
  }, 120_000)

  it('should write the ground truth: the scenario run, its causes and the streams it moved', () => {
    const truth = JSON.parse(readFileSync(join(tmp, 'a.truth.json'), 'utf8'))
    expect(truth.generation).toMatchObject({ world: 'tutoring', seed: 7, warmupHours: 24 })
    expect(truth.summary.events).toBe(lines.length)
    const [s] = truth.scenarios
    expect(s).toMatchObject({ id: 'exam-season-surge', activatedAt: '2026-03-02T08:00:00.000Z' })
    expect(s.moved).toContain('customer.tutor.search')
    // the scenario's external events, with windows
    expect(truth.externalEvents.length).toBeGreaterThan(0)
    for (const x of truth.externalEvents)
      expect(Date.parse(x.window.end)).toBeGreaterThan(Date.parse(x.window.start))
    const cause = truth.causes.find(
      (c: { cause: string }) => c.cause === 'scenario:exam-season-surge',
    )
    const search = cause.streams.find(
      (x: { stream: string }) => x.stream === 'customer.tutor.search',
    )
    expect(search.moved).toBe(true)
    expect(search.observed).toBeGreaterThan(search.expected)
  })

  it('should stream to standard output with the summary on stderr, and filter streams', () => {
    const r = runBin([...BASE, '--streams', 'session.*,customer.signup'])
    expect(r.code, r.stderr).toBe(0)
    const out = r.stdout
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(out.length).toBeGreaterThan(100)
    expect(
      out.every((e) => e.stream.startsWith('session.') || e.stream === 'customer.signup'),
    ).toBe(true)
    // the same events as the unfiltered file, in the same order
    const same = lines.filter((l) => /"stream":"(session\.[^"]+|customer\.signup)"/.test(l)).length
    expect(same).toBeGreaterThan(0)
    expect(r.stderr).toMatch(/verisim: [\d,]+ events of world tutoring/)
    expect(r.stderr).not.toContain('█') // no progress bar when stderr is not a terminal
  }, 120_000)
})

describe('verisim generate: CSV and Parquet', () => {
  /** Two hours of the same run, as NDJSON, to compare the other formats with. */
  const SHORT = [...BASE.slice(0, -4), '--duration', '2h', '--warmup-hours', '24']
  let short: string[]
  beforeAll(async () => {
    const r = await run([
      ...SHORT,
      '--scenario',
      'exam-season-surge@+1h',
      '--out',
      join(tmp, 'short.ndjson'),
    ])
    expect(r.code, r.stderr).toBe(0)
    short = readFileSync(join(tmp, 'short.ndjson'), 'utf8').trimEnd().split('\n')
  }, 120_000)

  it('CSV should read back with csv-parse: a header, one row per event, typed columns', async () => {
    const r = await run([
      ...SHORT,
      '--scenario',
      'exam-season-surge@+1h',
      '--format',
      'csv',
      '--out',
      join(tmp, 'c.csv'),
    ])
    expect(r.code, r.stderr).toBe(0)
    const rows = parse(readFileSync(join(tmp, 'c.csv')), { columns: true }) as Record<
      string,
      string
    >[]
    expect(rows).toHaveLength(short.length)
    const first = JSON.parse(short[0]!)
    expect(rows[0]).toEqual({
      id: first.id,
      world: 'tutoring',
      stream: first.stream,
      channel: first.channel,
      timestamp: first.timestamp,
      normalizedValue: String(first.normalizedValue),
      anomalyFlag: first.anomalyFlag,
      causes: first.causes.join(';'),
      data: JSON.stringify(first.data),
    })
    for (const row of rows.slice(0, 2000)) {
      expect(Number.isFinite(Number(row.normalizedValue))).toBe(true)
      expect(typeof JSON.parse(row.data!)).toBe('object')
      expect(['normal', 'warning', 'critical']).toContain(row.anomalyFlag)
    }
    expect(
      rows.filter((x) => x.causes!.includes('scenario:exam-season-surge')).length,
    ).toBeGreaterThan(1000)
  }, 120_000)

  it('Parquet should read back with hyparquet: the row count, the schema and the values', async () => {
    const r = await run([
      ...SHORT,
      '--scenario',
      'exam-season-surge@+1h',
      '--format',
      'parquet',
      '--out',
      join(tmp, 'p.parquet'),
    ])
    expect(r.code, r.stderr).toBe(0)
    const buf = readFileSync(join(tmp, 'p.parquet'))
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
    const meta = parquetMetadata(file)
    const baseLines = short
    expect(Number(meta.num_rows)).toBe(baseLines.length)
    expect(meta.schema.map((s) => s.name)).toEqual([
      'root',
      'id',
      'world',
      'stream',
      'channel',
      'timestamp',
      'normalizedValue',
      'anomalyFlag',
      'causes',
      'data',
    ])
    // data is JSON (the logical type) stored as its text, not a JSON string literal of it
    expect(meta.schema.at(-1)).toMatchObject({ name: 'data', logical_type: { type: 'JSON' } })
    const [raw] = await parquetReadObjects({ file, rowStart: 0, rowEnd: 1, utf8: false })
    const text = new TextDecoder().decode(raw!.data as Uint8Array)
    expect(JSON.parse(text)).toEqual(JSON.parse(baseLines[0]!).data)
    const rows = await parquetReadObjects({ file, rowStart: 0, rowEnd: 500 })
    rows.forEach((row, i) => {
      const e = JSON.parse(baseLines[i]!)
      expect(row.id).toBe(e.id)
      expect(row.stream).toBe(e.stream)
      expect(row.timestamp).toBeInstanceOf(Date)
      expect((row.timestamp as Date).toISOString()).toBe(e.timestamp)
      expect(row.normalizedValue).toBe(e.normalizedValue)
      expect(JSON.parse(row.data as string)).toEqual(e.data)
    })
  }, 120_000)

  it('--split should write one file per channel whose rows add up, with a checksum manifest', async () => {
    const dir = join(tmp, 'split')
    const r = await run([...BASE, '--split', '--out', dir])
    expect(r.code, r.stderr).toBe(0)
    const files = readdirSync(dir).sort()
    expect(files).toContain('checksums.sha256')
    expect(files).toContain('ground-truth.json')
    const channels = files.filter((f) => f.endsWith('.ndjson'))
    expect(channels).toEqual(
      expect.arrayContaining(['customer.ndjson', 'session.ndjson', 'system.ndjson']),
    )
    let total = 0
    for (const f of channels) {
      const ls = readFileSync(join(dir, f), 'utf8').trimEnd().split('\n')
      total += ls.length
      expect(ls.every((l) => l.includes(`"channel":"${f.replace('.ndjson', '')}"`))).toBe(true)
    }
    const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8'))
    expect(total).toBe(truth.summary.events)
  }, 120_000)
})

describe('verisim generate: every world', () => {
  it.each(Object.keys(WORLD_MODULES))(
    '%s should generate valid envelopes with a ground truth',
    async (id) => {
      const out = join(tmp, `world-${id}.ndjson`)
      const r = await run([
        'generate',
        '--world',
        id,
        '--start',
        START,
        '--duration',
        '3h',
        '--warmup-hours',
        '6',
        '--out',
        out,
      ])
      expect(r.code, r.stderr).toBe(0)
      const ls = readFileSync(out, 'utf8').trimEnd().split('\n')
      expect(ls.length).toBeGreaterThan(10)
      for (const l of ls.slice(0, 200)) {
        const e = JSON.parse(l)
        expect(validEvent.problems(e), l).toEqual([])
        expect(e.world).toBe(id)
      }
      expect(
        JSON.parse(readFileSync(out.replace('.ndjson', '.truth.json'), 'utf8')).summary.events,
      ).toBe(ls.length)
    },
    60_000,
  )
})

describe('verisim generate: bad command lines', () => {
  const bad: [string[], string][] = [
    [['--seed', '-1'], '--seed "-1" is invalid'],
    [['--start', '2026-02-30T00:00:00Z'], '--start "2026-02-30T00:00:00Z" is invalid'],
    [['--duration', 'forever'], '--duration "forever" is invalid; expected a positive duration'],
    [
      ['--end', '2026-01-01T00:00:00Z', '--start', START],
      '--end "2026-01-01T00:00:00Z" is invalid; expected a time after --start',
    ],
    [
      ['--scenario', 'exam-season-surge'],
      '--scenario "exam-season-surge" is invalid; expected <scenario id>@<time>',
    ],
    [
      ['--scenario', 'exam-season-surge@+3d', '--start', START, '--duration', '1d'],
      'is outside the run',
    ],
    [['--format', 'xml'], "option '--format <format>' argument 'xml' is invalid"],
    [['--format', 'parquet'], '--format parquet needs --out <file|dir>'],
    [['--split'], '--split writes one file per channel; it needs --out <dir>'],
    [['--action', 'spawn_students@+1h={nope', '--start', START], 'its payload is not JSON'],
    [['--streams', 'bad pattern!'], '--streams "bad pattern!" is invalid'],
    [['--colour'], 'unknown option --colour; expected --world, --seed'],
  ]
  it.each(bad)('%j should exit 2 naming the flag', async (args, message) => {
    const r = await run(['generate', ...args])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(message)
  })

  it('an unknown scenario should exit 1 naming the known ones', async () => {
    const r = await run([
      ...BASE,
      '--scenario',
      'alien-invasion@+1h',
      '--out',
      join(tmp, 'x.ndjson'),
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('world tutoring has no scenario "alien-invasion"; expected one of')
  })

  it('--streams naming no stream of the world should exit 1 saying so', async () => {
    const r = await run([...BASE, '--streams', 'no.such.*', '--out', join(tmp, 'x.ndjson')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('--streams no.such.* names no stream of world tutoring')
  })

  it('an unknown world should exit 1 saying where it looked', async () => {
    const r = await run(['generate', '--world', 'atlantis', '--out', join(tmp, 'x.ndjson')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('cannot load world atlantis')
  })
})
