/**
 * `verisim score` against a generated run's ground truth: perfect detections
 * score 1/1 with no delay, none score 0, detections at the wrong time are false
 * alarms, Verisim's own flags as a detector score in between, and bad input
 * is refused naming what is wrong.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GroundTruth } from '../src/generate/truth.js'
import { run } from './helpers.js'

const START = Date.parse('2026-03-02T06:00:00Z')
let tmp: string
let truth: GroundTruth
let truthPath: string

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'verisim-score-'))
  const r = await run([
    'generate',
    '--seed',
    '11',
    '--start',
    new Date(START).toISOString(),
    '--duration',
    '8h',
    '--warmup-hours',
    '24',
    '--scenario',
    'payment-outage@+3h',
    '--out',
    join(tmp, 'run.ndjson'),
  ])
  expect(r.code, r.stderr).toBe(0)
  truthPath = join(tmp, 'run.truth.json')
  truth = JSON.parse(readFileSync(truthPath, 'utf8'))
}, 120_000)
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

async function score(detections: unknown[] | string, extra: string[] = []) {
  const file = join(tmp, `d${Math.random().toString(36).slice(2)}.ndjson`)
  writeFileSync(
    file,
    typeof detections === 'string'
      ? detections
      : detections.map((d) => JSON.stringify(d)).join('\n'),
  )
  const r = await run([
    'score',
    '--truth',
    truthPath,
    '--detections',
    file,
    '--format',
    'json',
    ...extra,
  ])
  return { ...r, s: r.code === 0 ? JSON.parse(r.stdout) : null }
}

describe('verisim score', () => {
  it('perfect detections (the moved streams over their spans) should score 1 and 1 with no delay', async () => {
    const moved = truth.causes.flatMap((c) =>
      c.streams
        .filter((s) => s.moved)
        .map((s) => ({ stream: s.stream, start: s.first, end: s.last })),
    )
    expect(moved.length).toBeGreaterThan(0)
    const { s } = await score(moved)
    expect(s).toMatchObject({ precision: 1, recall: 1, falseAlarms: 0, incidentRecall: 1 })
    expect(s.timeToDetectMin.max).toBe(0)
    expect(s.incidents[0].incident).toMatch(/^scenario payment-outage/)
  })

  it('no detections should score 0 recall; detections before the scenario are false alarms', async () => {
    expect((await score([])).s).toMatchObject({ detections: 0, recall: 0, precision: 0 })
    const early = truth.causes.flatMap((c) =>
      c.streams.map((s) => ({
        stream: s.stream,
        start: new Date(START).toISOString(),
        end: new Date(START + 3_600_000).toISOString(),
      })),
    )
    const { s } = await score(early)
    expect(s).toMatchObject({ truePositives: 0, recall: 0 })
    expect(s.falseAlarms).toBe(early.length)
  })

  it("Verisim's own flags as a detector should find the outage quickly, with some false alarms", async () => {
    // a detection per stream per run of flagged events
    const open = new Map<string, { start: string; end: string }>()
    const out: { stream: string; start: string; end: string }[] = []
    for (const line of readFileSync(join(tmp, 'run.ndjson'), 'utf8').trimEnd().split('\n')) {
      const e = JSON.parse(line)
      const cur = open.get(e.stream)
      if (e.anomalyFlag !== 'normal') {
        if (cur) cur.end = e.timestamp
        else open.set(e.stream, { start: e.timestamp, end: e.timestamp })
      } else if (cur) {
        out.push({ stream: e.stream, ...cur })
        open.delete(e.stream)
      }
    }
    for (const [stream, w] of open) out.push({ stream, ...w })
    const { s } = await score(out)
    expect(s.incidentRecall).toBe(1)
    expect(s.recall).toBeGreaterThan(0.5)
    expect(s.timeToDetectMin.median).toBeLessThanOrEqual(30)
    expect(s.precision).toBeGreaterThan(0)
    expect(s.precision).toBeLessThanOrEqual(1)
  })

  it('should read CSV detections and print a text summary', async () => {
    const moved = truth.causes.flatMap((c) =>
      c.streams.filter((s) => s.moved).map((s) => `${s.stream},${s.first},${s.last}`),
    )
    const file = join(tmp, 'd.csv')
    writeFileSync(file, `stream,start,end\n${moved.join('\n')}\n`)
    const r = await run(['score', '--truth', truthPath, '--detections', file])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('precision 100.0 %')
    expect(r.stdout).toContain('recall    100.0 %')
  })

  it('should refuse bad input naming what is wrong', async () => {
    const bad = await score('{"stream":"customer.signup","start":"yesterday"}')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('detection 1 has an invalid "start" "yesterday"')
    const noStream = await score([{ start: '2026-03-02T06:00:00Z' }])
    expect(noStream.stderr).toContain('detection 1 has no "stream"')
    expect((await run(['score', '--detections', 'x'])).code).toBe(2)
    const missing = await run(['score', '--truth', join(tmp, 'nope.json'), '--detections', 'x'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('cannot read it')
    const notTruth = join(tmp, 'not-truth.json')
    writeFileSync(notTruth, '{"a":1}')
    expect((await run(['score', '--truth', notTruth, '--detections', notTruth])).stderr).toContain(
      'not a ground-truth file',
    )
  })
})
