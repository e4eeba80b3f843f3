/**
 * `verisim baseline export` (scripts/verisim.mjs) as a real process: the three
 * files with their generation metadata, the SHA-256 manifest (recomputed here),
 * 60 12-h points per stream, byte-identical output for the same arguments,
 * defaults from the generator's environment variables, and the errors with their
 * exit codes (2: command line, 1: failure while running).
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(root, 'scripts', 'verisim.mjs')
const START = '2026-03-02T00:00:00.000Z'
const FILES = ['baseline-full-30day.json', 'baseline-statistics.json', 'baseline-events-30day.json']
const DAY = 86_400_000

let tmp: string

/** Runs the CLI with a clean VERISIM_* environment plus `env`. */
function verisim(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('VERISIM_') && k !== 'npm_lifecycle_event',
    ),
  )
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: root,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const readJson = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'))

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'verisim-cli-'))
})
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true })
})

describe('verisim baseline export', () => {
  let out: string
  let run: ReturnType<typeof verisim>

  beforeAll(() => {
    out = join(tmp, 'a', 'nested')
    run = verisim(['baseline', 'export', '--out', out, '--seed', '42', '--start', START], {
      SOURCE_DATE_EPOCH: '1767225600',
    })
  }, 60_000)

  it('should exit 0 and list the files with their sizes', () => {
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('baseline of world tutoring (seed 42')
    for (const f of [...FILES, 'checksums.sha256'])
      expect(run.stdout).toMatch(new RegExp(`${f.replace('.', '\\.')}\\s+[\\d.]+ (B|kB|MB)`))
    // not a terminal: no progress bar
    expect(run.stderr).not.toContain('%')
    expect(readdirSync(out).sort()).toEqual([...FILES, 'checksums.sha256'].sort())
  })

  it('should write a checksum manifest that matches every file', () => {
    const lines = readFileSync(join(out, 'checksums.sha256'), 'utf8').trim().split('\n')
    expect(lines).toHaveLength(FILES.length)
    const listed = new Map(
      lines.map((l) => {
        const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(l)
        expect(m, l).not.toBeNull()
        return [m![2]!, m![1]!]
      }),
    )
    for (const f of FILES) {
      const sha = createHash('sha256')
        .update(readFileSync(join(out, f)))
        .digest('hex')
      expect(listed.get(f), f).toBe(sha)
    }
  })

  it('should record the generation in every file', () => {
    for (const f of FILES) {
      const g = readJson(out, f).generation
      expect(g.world).toBe('tutoring')
      expect(g.seed).toBe(42)
      expect(g.start).toBe(START)
      expect(g.to).toBe(START)
      expect(g.from).toBe(new Date(Date.parse(START) - 30 * DAY).toISOString())
      expect(g.version).toMatch(/^@verisim\/sim@\d+\.\d+\.\d+ history-model sha256:[0-9a-f]{12}$/)
      expect(g.generatedAt).toBe('2026-01-01T00:00:00.000Z')
    }
  })

  it('should hold 15-min buckets and 60 12-h points per stream', () => {
    const full = readJson(out, 'baseline-full-30day.json')
    expect(full.series.bucketMs).toBe(900_000)
    expect(full.series.buckets).toBe(2880)
    expect(full.series.partialLastBucket).toBe(false)
    const streams = Object.entries(full.streams) as [string, any][]
    expect(streams).toHaveLength(50)
    for (const [name, s] of streams) {
      expect(s.count, name).toHaveLength(2880)
      expect(s.mean, name).toHaveLength(2880)
      expect(s.points12h, name).toHaveLength(60)
      expect(s.points12h[0].t).toBe(full.series.from)
      if (s.measure === 'count') {
        // a 12 h point is the sum of its 48 buckets
        const sum = s.count.slice(0, 48).reduce((a: number, b: number) => a + b, 0)
        expect(s.points12h[0].v, name).toBe(sum)
      }
    }
    expect(full.anomalies.length).toBeGreaterThan(0)
  })

  it('should write the statistics at 12 h, 1 h and 15 min', () => {
    const st = readJson(out, 'baseline-statistics.json').statistics
    expect(Object.keys(st)).toEqual(['12h', '1h', '15m'])
    for (const iv of ['12h', '1h', '15m']) {
      expect(st[iv].interval).toBe(iv)
      expect(Object.keys(st[iv].streams)).toHaveLength(50)
    }
    expect(st['12h'].streams['session.booking.requested'].samples).toBe(60)
  })

  it('should write the baseline events with their measured impact', () => {
    const doc = readJson(out, 'baseline-events-30day.json')
    const events = doc.events as any[]
    expect(doc.summary.events).toBe(events.length)
    const herrings = events.filter((e) => e.redHerring).length
    expect(doc.summary.redHerrings).toBe(herrings)
    expect(herrings / events.length).toBeGreaterThanOrEqual(0.3)
    expect(herrings / events.length).toBeLessThanOrEqual(0.4)
    expect(doc.summary.perDay.min).toBeGreaterThanOrEqual(2)
    expect(doc.summary.perDay.max).toBeLessThanOrEqual(5)
    for (const e of events) {
      expect(e.source).toBe('baseline')
      expect(Array.isArray(e.actualImpact)).toBe(true)
      expect(typeof e.impacted).toBe('boolean')
    }
  })

  it('the same arguments should give byte-identical files', () => {
    const again = join(tmp, 'again')
    const r = verisim(['baseline', 'export', '--out', again, '--start', START, '--seed=42'], {
      SOURCE_DATE_EPOCH: '1767225600',
    })
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(join(again, 'checksums.sha256'), 'utf8')).toBe(
      readFileSync(join(out, 'checksums.sha256'), 'utf8'),
    )
  }, 60_000)

  it('should take its defaults from the generator environment', () => {
    const dir = join(tmp, 'env')
    const r = verisim(['baseline', 'export', '--out', dir], {
      VERISIM_SEED: '7',
      VERISIM_START: '2026-03-02T09:10:00Z',
      VERISIM_WARMUP_HOURS: '24',
    })
    expect(r.code, r.stderr).toBe(0)
    const g = readJson(dir, 'baseline-statistics.json').generation
    expect(g.seed).toBe(7)
    expect(g.start).toBe('2026-03-02T09:10:00.000Z')
    expect(g.origin).toBe('2026-03-01T09:10:00.000Z')
    expect(g.from).toBe('2026-01-31T00:00:00.000Z')
    const full = readJson(dir, 'baseline-full-30day.json')
    // 30 days + 9 h 10 min: 36 full buckets after the last 12 h point and a partial one
    expect(full.series.buckets).toBe(2880 + 37)
    expect(full.series.partialLastBucket).toBe(true)
    expect(full.streams['customer.login'].points12h).toHaveLength(60)
  }, 60_000)
})

describe('verisim errors', () => {
  it('--help should print the usage and exit 0', () => {
    const r = verisim(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: verisim')
    expect(r.stdout).toContain('baseline export --out <dir>')
  })

  it('an unknown option should exit 2 naming it and the expected ones', () => {
    const r = verisim(['baseline', 'export', '--out', join(tmp, 'x'), '--x', '1'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(
      'verisim: unknown option --x; expected --out, --world, --seed, --start',
    )
  })

  it('an unknown command should exit 2', () => {
    expect(verisim(['frobnicate']).code).toBe(2)
    const r = verisim(['baseline', 'import', '--out', join(tmp, 'x')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown command "baseline import"')
  })

  it('no command should print the usage and exit 2', () => {
    const r = verisim([])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Usage: verisim')
  })

  it('a missing --out should exit 2', () => {
    const r = verisim(['baseline', 'export'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('needs --out')
  })

  it('bad values should exit 2 naming the option', () => {
    const seed = verisim(['baseline', 'export', '--out', join(tmp, 'x'), '--seed', 'abc'])
    expect(seed.code).toBe(2)
    expect(seed.stderr).toContain('--seed "abc" is invalid')
    const start = verisim(['baseline', 'export', '--out', join(tmp, 'x'), '--start', 'yesterday'])
    expect(start.code).toBe(2)
    expect(start.stderr).toContain('--start "yesterday" is invalid')
  })

  it('an unwritable output folder should exit 1 saying so', () => {
    const file = join(tmp, 'a-file')
    writeFileSync(file, 'x')
    const r = verisim(['baseline', 'export', '--out', join(file, 'sub'), '--start', START])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`cannot write to ${join(file, 'sub')}`)
  })

  it('an unknown world should exit 1 saying where it looked', () => {
    const r = verisim(['baseline', 'export', '--out', join(tmp, 'w'), '--world', 'atlantis'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('cannot load world atlantis')
  })
})
