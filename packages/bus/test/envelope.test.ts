import { describe, expect, it } from 'vitest'
import { compileValidator, StreamEventSchema } from '@verisim/schema'
import { createIdSequence } from '@verisim/bus'
import { createEnvelopeEncoder } from '../src/envelope.js'

describe('envelope encoder', () => {
  it('should produce the contract envelope with increasing ids', () => {
    const encode = createEnvelopeEncoder('tutoring', createIdSequence())
    const sim = {
      ts: Date.parse('2026-11-23T10:15:00Z'),
      stream: 'session.completed',
      channel: 'session',
      data: { sessionId: 'ses_8f2', durationMin: 55, note: 'say "hi"' },
      normalizedValue: 52.3,
      anomalyFlag: 'normal' as const,
      causes: [],
    }
    const a = encode(sim, 1_732_350_000_000)
    const b = encode(
      { ...sim, stream: 'customer.tutor.search', channel: 'customer' },
      1_732_350_000_000,
    )
    expect(a.id).toBe('1732350000000-0')
    expect(b.id).toBe('1732350000000-1')
    const env = JSON.parse(a.json)
    expect(env).toEqual({
      id: '1732350000000-0',
      world: 'tutoring',
      stream: 'session.completed',
      channel: 'session',
      timestamp: '2026-11-23T10:15:00.000Z',
      data: sim.data,
      normalizedValue: 52.3,
      anomalyFlag: 'normal',
      causes: [],
    })
    const v = compileValidator(StreamEventSchema)
    expect(v.problems(env)).toEqual([])
    expect(JSON.parse(b.json).stream).toBe('customer.tutor.search')
  })

  it('should format every timestamp as toISOString does, across seconds and odd years', () => {
    const encode = createEnvelopeEncoder('tutoring', createIdSequence())
    const at = (ts: number) =>
      JSON.parse(
        encode(
          {
            ts,
            stream: 's',
            channel: 'c',
            data: {},
            normalizedValue: 50,
            anomalyFlag: 'normal',
            causes: [],
          },
          0,
        ).json,
      ).timestamp
    const times = [
      0, 5, 42, 999, 1000, 1001, -1, -1000, 1_772_409_600_007, 1_772_409_600_070, 1_772_409_600_700,
      1_772_409_601_000, 1_772_409_601_999, 253_402_300_800_000, 253_402_300_800_123,
    ]
    for (const ts of times) expect(at(ts)).toBe(new Date(ts).toISOString())
  })
})
