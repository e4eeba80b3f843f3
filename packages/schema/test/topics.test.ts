import { describe, expect, it } from 'vitest'
import {
  canonicalTopics,
  createTopicMatcher,
  domainOf,
  UnknownTopicError,
  type StreamInfo,
} from '../src/index.js'

const catalog: StreamInfo[] = [
  {
    name: 'customer.tutor.search',
    domain: 'customer',
    channel: 'customer',
    cadence: 'medium',
    unit: 'searches',
    description: '',
  },
  {
    name: 'customer.payment.failed',
    domain: 'customer',
    channel: 'customer',
    cadence: 'low',
    unit: 'payments',
    description: '',
  },
  {
    name: 'session.completed',
    domain: 'session',
    channel: 'session',
    cadence: 'high',
    unit: 'sessions',
    description: '',
  },
  {
    name: 'system.api.request.log',
    domain: 'system',
    channel: 'system',
    cadence: 'high',
    unit: 'requests',
    description: '',
  },
]
const ev = (stream: string, anomalyFlag = 'normal', channel = domainOf(stream)) => ({
  stream,
  channel,
  anomalyFlag,
})

describe('createTopicMatcher', () => {
  it('should match every event of the world with *, external events included, control messages not', () => {
    const m = createTopicMatcher(['*'], catalog)
    expect(m(ev('customer.tutor.search'))).toBe(true)
    expect(m(ev('session.completed'))).toBe(true)
    expect(m(ev('external.event', 'normal', 'external'))).toBe(true)
    expect(m(ev('state', 'normal', 'simulation_control'))).toBe(false)
  })

  it('should add control messages to * when simulation_control is subscribed too', () => {
    const m = createTopicMatcher(['*', 'simulation_control'], catalog)
    expect(m(ev('state', 'normal', 'simulation_control'))).toBe(true)
    expect(m(ev('session.completed'))).toBe(true)
  })

  it('should match a domain wildcard only within the domain', () => {
    const m = createTopicMatcher(['customer.*'], catalog)
    expect(m(ev('customer.payment.failed'))).toBe(true)
    expect(m(ev('session.completed'))).toBe(false)
  })

  it('should match an exact stream name', () => {
    const m = createTopicMatcher(['session.completed'], catalog)
    expect(m(ev('session.completed'))).toBe(true)
    expect(m(ev('customer.tutor.search'))).toBe(false)
  })

  it('should match cadence groups from the catalog', () => {
    const m = createTopicMatcher(['high-frequency'], catalog)
    expect(m(ev('system.api.request.log'))).toBe(true)
    expect(m(ev('session.completed'))).toBe(true)
    expect(m(ev('customer.tutor.search'))).toBe(false)
  })

  it('should match anomalies by flag', () => {
    const m = createTopicMatcher(['anomalies'], catalog)
    expect(m(ev('customer.tutor.search', 'warning'))).toBe(true)
    expect(m(ev('customer.tutor.search', 'critical'))).toBe(true)
    expect(m(ev('customer.tutor.search', 'normal'))).toBe(false)
  })

  it('should match external events and control only on their own channels', () => {
    const m = createTopicMatcher(['external-events', 'simulation_control'], catalog)
    expect(m(ev('external.event', 'normal', 'external'))).toBe(true)
    expect(m(ev('state', 'normal', 'simulation_control'))).toBe(true)
    expect(m(ev('customer.tutor.search'))).toBe(false)
  })

  it('should combine topics as a union', () => {
    const m = createTopicMatcher(['session.*', 'anomalies'], catalog)
    expect(m(ev('session.completed'))).toBe(true)
    expect(m(ev('customer.tutor.search', 'critical'))).toBe(true)
    expect(m(ev('customer.tutor.search'))).toBe(false)
  })

  it('should name every unknown topic and the valid forms', () => {
    expect(() =>
      createTopicMatcher(['customer.*', 'nope.*', 'customer.tutor.serch'], catalog),
    ).toThrow(UnknownTopicError)
    try {
      createTopicMatcher(['nope.*', 'customer.tutor.serch'], catalog)
    } catch (err) {
      expect((err as Error).message).toContain('"nope.*"')
      expect((err as Error).message).toContain('"customer.tutor.serch"')
      expect((err as Error).message).toContain('"<domain>.*"')
    }
  })
})

describe('canonicalTopics', () => {
  it('should deduplicate and sort so equal subscriptions share a key', () => {
    expect(canonicalTopics(['b', 'a', 'b'])).toEqual(['a', 'b'])
  })
})
