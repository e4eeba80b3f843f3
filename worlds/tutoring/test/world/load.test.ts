import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Compile } from 'typebox/compile'
import { StreamInfoSchema } from '@verisim/schema'
import { SimErrorCode, WORLD_FILES, WorldConfigError, compileWorld, loadWorld } from '@verisim/sim'
import { TUTORING_DIR, tutoring, tutoringModule } from '../helpers.js'

type Raw = Record<'streams' | 'baseline' | 'relationships' | 'cadences', any>
const original: Raw = {
  streams: JSON.parse(readFileSync(join(TUTORING_DIR, WORLD_FILES.streams), 'utf8')),
  baseline: JSON.parse(readFileSync(join(TUTORING_DIR, WORLD_FILES.baseline), 'utf8')),
  relationships: JSON.parse(readFileSync(join(TUTORING_DIR, WORLD_FILES.relationships), 'utf8')),
  cadences: JSON.parse(readFileSync(join(TUTORING_DIR, WORLD_FILES.cadences), 'utf8')),
}
const DIR = 'config/worlds/tutoring'

/** Compiles a mutated copy of the tutoring world and returns the error it throws. */
function errorFor(mutate: (raw: Raw) => void): WorldConfigError {
  const raw = structuredClone(original)
  mutate(raw)
  try {
    compileWorld(raw, tutoringModule, DIR)
  } catch (err) {
    expect(err).toBeInstanceOf(WorldConfigError)
    return err as WorldConfigError
  }
  throw new Error('expected the world to be rejected')
}

const streamAt = (raw: Raw, name: string) =>
  raw.streams.streams.findIndex((s: { name: string }) => s.name === name)

describe('world/load', () => {
  const tmp: string[] = []
  afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })))

  it('load should read the tutoring world: 50 streams in 6 domains, each named after its domain', () => {
    const world = tutoring()
    expect(world.id).toBe('tutoring')
    expect(world.streams).toHaveLength(50)
    expect(new Set(world.catalog.map((c) => c.domain))).toEqual(
      new Set(['customer', 'tutor', 'session', 'support', 'marketing', 'system']),
    )
    const check = Compile(StreamInfoSchema)
    for (const c of world.catalog) {
      expect(check.Check(c)).toBe(true)
      expect(c.name.startsWith(`${c.domain}.`)).toBe(true)
      expect(c.channel).toBe(c.domain)
    }
    for (const name of [
      'customer.tutor.search',
      'session.booking.requested',
      'session.booking.confirmed',
      'customer.payment.failed',
      'system.api.request.log',
      'session.completed',
      'session.rating.submitted',
    ])
      expect(world.streamIndex.has(name), name).toBe(true)
    for (const cadence of ['high', 'medium', 'low'])
      expect(world.catalog.some((c) => c.cadence === cadence)).toBe(true)
  })

  it('load should give every stream a baseline with a positive spread and a documented source', () => {
    for (const s of tutoring().streams) {
      expect(Number.isFinite(s.baseline.mean), s.name).toBe(true)
      expect(s.baseline.sd, s.name).toBeGreaterThan(0)
      expect(['analytic', 'sampled', 'declared']).toContain(s.baseline.source)
    }
  })

  it('load should name the file, the JSON path and the expected values for a bad enum', () => {
    const i = streamAt(original, 'customer.login')
    const e = errorFor((r) => (r.streams.streams[i].cadence = 'fast'))
    expect(e.code).toBe(SimErrorCode.worldInvalid)
    expect(e.file).toBe(join(DIR, 'streams.json'))
    expect(e.path).toBe(`/streams/${i}/cadence`)
    expect(e.message).toBe(
      `${join(DIR, 'streams.json')} at /streams/${i}/cadence: expected one of "high" | "medium" | "low", found "fast"`,
    )
  })

  it('load should report a missing property, an unknown property and a wrong type', () => {
    const missing = errorFor((r) => delete r.streams.streams[0].unit)
    expect(missing.path).toBe('/streams/0')
    expect(missing.expected).toBe('the property "unit"')
    const unknown = errorFor((r) => (r.baseline.population.teachers = 5))
    expect(unknown.file).toBe(join(DIR, 'baseline-metrics.json'))
    expect(unknown.path).toBe('/population/teachers')
    expect(unknown.expected).toContain('no property "teachers"')
    const i = streamAt(original, 'customer.login')
    const type = errorFor((r) => (r.streams.streams[i].arrival.perDay = 'lots'))
    expect(type.path).toBe(`/streams/${i}/arrival/perDay`)
    expect(type.message).toContain('expected a value of type number')
    expect(type.message).toContain('found "lots"')
  })

  it('load should check stream names across files', () => {
    const e = errorFor(
      (r) => (r.relationships.chains[0].outcomes[0].stream = 'session.booking.accepted'),
    )
    expect(e.file).toBe(join(DIR, 'stream-relationships.json'))
    expect(e.path).toBe('/chains/0/outcomes/0/stream')
    expect(e.message).toContain(
      'expected the name of a stream in streams.json, found "session.booking.accepted"',
    )
    const m = errorFor(
      (r) => (r.baseline.metrics.ratingRate.measure.numerator[0].stream = 'session.rating.given'),
    )
    expect(m.path).toBe('/metrics/ratingRate/measure/numerator/0/stream')
    const c = errorFor((r) => (r.cadences.periodic['system.cron'] = { everySec: 60, jitterSec: 1 }))
    expect(c.file).toBe(join(DIR, 'stream-cadences.json'))
    expect(c.path).toBe('/periodic/system.cron')
  })

  it('load should check metric references, complete chains and distribution parameters', () => {
    const ref = errorFor(
      (r) => (r.relationships.chains[0].outcomes[0].probability = 'bookingAcceptRate'),
    )
    expect(ref.path).toBe('/chains/0/outcomes/0/probability')
    expect(ref.expected).toContain('name of a metric')
    const sum = errorFor((r) => (r.relationships.chains[0].outcomes[1].probability = 0.5))
    expect(sum.path).toBe('/chains/0/outcomes')
    expect(sum.expected).toContain('summing to 1')
    const i = streamAt(original, 'customer.tutor.profile.view')
    const dist = errorFor((r) => delete r.streams.streams[i].value.dist.sigma)
    expect(dist.path).toBe(`/streams/${i}/value/dist/sigma`)
    expect(dist.expected).toBe('a number for a lognormal distribution')
    const prof = errorFor((r) => (r.streams.streams[i].arrival.profile = 'weekends'))
    expect(prof.path).toBe(`/streams/${i}/arrival/profile`)
    expect(prof.expected).toContain('one of the profiles')
  })

  it('load should reject chains whose outcome cannot use what the trigger produces', () => {
    const e = errorFor((r) => (r.relationships.chains[0].outcomes[0].stream = 'session.completed'))
    expect(e.path).toBe('/chains/0/outcomes/0/stream')
    expect(e.expected).toContain('accepts')
  })

  it('load should reject a stream that can never fire', () => {
    const e = errorFor((r) => {
      r.relationships.chains = r.relationships.chains.filter(
        (c: { id: string }) => c.id !== 'session-rating',
      )
      r.relationships.cascades = []
      r.relationships.chains = r.relationships.chains.filter(
        (c: { trigger: string }) => c.trigger !== 'session.rating.submitted',
      )
    })
    expect(e.path).toBe(`/streams/${streamAt(original, 'session.rating.submitted')}`)
    expect(e.expected).toContain('never fires')
  })

  it('load should name the file for unreadable JSON and a missing file, and read optional files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verisim-world-'))
    tmp.push(dir)
    cpSync(TUTORING_DIR, dir, { recursive: true })
    // scenarios and the external-event library are optional (validated when present: test/scenarios.config.test.ts)
    rmSync(join(dir, 'scenario-definitions.json'), { force: true })
    rmSync(join(dir, 'external-events-library.json'), { force: true })
    expect(loadWorld(dir, tutoringModule).config.scenarios).toBeUndefined()
    expect(loadWorld(dir, tutoringModule).scenarioSet.scenarios).toEqual([])
    const empty = { world: 'tutoring', description: 'none', scenarios: [] }
    writeFileSync(join(dir, 'scenario-definitions.json'), JSON.stringify(empty))
    expect(loadWorld(dir, tutoringModule).config.scenarios).toEqual(empty)
    writeFileSync(join(dir, 'stream-cadences.json'), '{ "world": "tutoring", ')
    let err: unknown
    try {
      loadWorld(dir, tutoringModule)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(WorldConfigError)
    expect((err as WorldConfigError).code).toBe(SimErrorCode.worldInvalidJson)
    expect((err as WorldConfigError).message).toContain(join(dir, 'stream-cadences.json'))
    rmSync(join(dir, 'stream-cadences.json'))
    expect(() => loadWorld(dir, tutoringModule)).toThrow(
      /stream-cadences\.json at \(root\): expected the file to exist/,
    )
  })
})
