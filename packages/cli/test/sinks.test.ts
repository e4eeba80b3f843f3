/**
 * The NDJSON sink on its own: lines gathered into runs and encoded per run must
 * give exactly the bytes of the lines one after another — across run and chunk
 * boundaries, with multi-byte UTF-8 — and hash what it wrote. And `generate`
 * runs in a child node with a larger young generation unless the user sized it.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import type { SimEvent } from '@verisim/sim'
import { createSink } from '../src/generate/sinks.js'
import { flagsToRerunWith, rerunWithFlags } from '../src/lib/heap.js'

const dir = mkdtempSync(join(tmpdir(), 'verisim-sinks-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const event = (i: number): SimEvent => ({
  ts: 1_772_409_600_000 + i,
  stream: 'customer.message.sent',
  channel: 'customers',
  data: { i },
  normalizedValue: 50,
  anomalyFlag: 'normal',
  causes: [],
})

/** A line of a varying length, every third one with 2-, 3- and 4-byte UTF-8 characters. */
const line = (i: number) =>
  JSON.stringify({ i, text: 'x'.repeat(i % 700), note: i % 3 === 0 ? `café ☕ 😀 ${i}` : 'plain' })

const ndjsonSink = (out: string) =>
  createSink({ format: 'ndjson', out, split: false, world: 'tutoring', stdout: new PassThrough() })

describe('NDJSON sink', () => {
  it('should write exactly the lines given, across runs and 1 MB chunks, with their SHA-256', async () => {
    const out = join(dir, 'lines.ndjson')
    const sink = ndjsonSink(out)
    const lines: string[] = []
    for (let i = 0; i < 20_000; i++) {
      const json = line(i)
      lines.push(json)
      sink.add({ e: event(i), id: `${i}-0`, json })
      if (sink.full) await sink.flush()
    }
    const [file] = await sink.close()
    const expected = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8')
    expect(expected.length).toBeGreaterThan(3 * (1 << 20)) // several chunks
    const written = readFileSync(out)
    expect(written.equals(expected)).toBe(true)
    expect(file).toMatchObject({ rows: 20_000, bytes: expected.length })
    expect(file!.sha256).toBe(createHash('sha256').update(expected).digest('hex'))
  })

  it('should take one line longer than a whole chunk', async () => {
    const out = join(dir, 'long.ndjson')
    const sink = ndjsonSink(out)
    const long = JSON.stringify({ text: '😀é'.repeat(600_000) }) // ~4.2 MB of UTF-8
    sink.add({ e: event(0), id: '0-0', json: '{"a":1}' })
    sink.add({ e: event(1), id: '1-0', json: long })
    await sink.flush()
    sink.add({ e: event(2), id: '2-0', json: '{"b":2}' })
    await sink.close()
    expect(readFileSync(out, 'utf8')).toBe(`{"a":1}\n${long}\n{"b":2}\n`)
  })
})

describe('node flags of generate', () => {
  it('should ask for a larger young generation for generate only', () => {
    expect(flagsToRerunWith(['generate', '--duration', '1d'], [], '')).toEqual([
      '--max-semi-space-size=64',
    ])
    expect(flagsToRerunWith(['tail'], [], '')).toBeNull()
    expect(flagsToRerunWith([], [], '')).toBeNull()
  })

  it('should leave a size the user gave in the node flags or NODE_OPTIONS', () => {
    expect(flagsToRerunWith(['generate'], ['--max-semi-space-size=32'], '')).toBeNull()
    expect(
      flagsToRerunWith(['generate'], [], '--max-old-space-size=4096 --max_semi_space_size=8'),
    ).toBeNull()
    expect(
      flagsToRerunWith(['generate'], ['--enable-source-maps'], '--max-old-space-size=4096'),
    ).not.toBeNull()
  })

  it('should run the script again with the flags and give back its exit code', async () => {
    const script = join(dir, 'child.mjs')
    const out = join(dir, 'child.json')
    writeFileSync(
      script,
      `import { writeFileSync } from 'node:fs'
writeFileSync(process.argv[2], JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }))
process.exit(Number(process.argv[3]))
`,
    )
    expect(await rerunWithFlags(['--max-semi-space-size=64'], script, [out, '3'])).toBe(3)
    const seen = JSON.parse(readFileSync(out, 'utf8')) as { execArgv: string[]; argv: string[] }
    expect(seen.execArgv).toContain('--max-semi-space-size=64')
    expect(seen.argv).toEqual([out, '3'])
  })
})
