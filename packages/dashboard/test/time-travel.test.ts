/**
 * The "Time travel" panel's model: the answers of the snapshot, restore,
 * travel and timelines endpoints read defensively, and the words, sizes, UTC
 * field values and preview figures the panel and the header show.
 */
import { describe, expect, it } from 'vitest'
import { readState } from '../src/lib/model.js'
import {
  eventsAround,
  formatBytes,
  formatWall,
  isSwitching,
  nextTimelineNumber,
  parseUtcInput,
  previewFigures,
  readPreview,
  readSnapshotList,
  readSwitch,
  readTimelines,
  resolveTarget,
  timelineLabel,
  travelWindow,
} from '../src/lib/time-travel.js'

const T0 = '2026-12-06T17:35:41.759Z'

const snapshotList = {
  snapshots: [
    {
      name: 'Run start',
      description: 'the run as it began (seed, world)',
      kind: 'origin',
      simulatedTime: T0,
      createdAt: '2026-12-06T17:35:45.523Z',
      timeline: 'tl_1',
      commands: 0,
      id: 'snap_1',
      sizeBytes: 634832,
    },
    {
      name: 'before lunch',
      description: '',
      kind: 'manual',
      simulatedTime: '2026-12-06T18:31:03.359Z',
      createdAt: '2026-12-06T17:35:51.512Z',
      timeline: 'tl_1',
      commands: 2,
      id: 'snap_2',
      sizeBytes: 848939,
    },
    { id: 'snap_9', name: 'no time' },
  ],
  maxSaved: 50,
  storage: 'redis',
  automatic: {
    storage: 'generator memory',
    everyHours: 1,
    count: 3,
    sizeBytes: 2_000_000,
    times: [T0],
  },
  timeline: { id: 'tl_1', number: 1, parent: null, reason: 'start', forkedAt: T0 },
}

describe('time travel readers', () => {
  it('should read the snapshot list, skipping entries without an id or a time', () => {
    const l = readSnapshotList(snapshotList)
    expect(l.snapshots.map((s) => [s.id, s.kind, s.name])).toEqual([
      ['snap_1', 'origin', 'Run start'],
      ['snap_2', 'manual', 'before lunch'],
    ])
    expect(l.snapshots[1]).toMatchObject({ sizeBytes: 848939, commands: 2, timeline: 'tl_1' })
    expect(l.maxSaved).toBe(50)
    expect(l.automatic).toEqual({
      everyHours: 1,
      count: 3,
      sizeBytes: 2_000_000,
      storage: 'generator memory',
    })
    expect(l.timeline).toEqual({
      id: 'tl_1',
      number: 1,
      parent: null,
      reason: 'start',
      forkedAt: T0,
    })
    expect(readSnapshotList(null)).toEqual({
      snapshots: [],
      maxSaved: null,
      automatic: null,
      timeline: null,
    })
  })

  it('should read the timelines, the current first, with their commands and way back', () => {
    const l = readTimelines({
      current: 'tl_2',
      timelines: [
        {
          id: 'tl_2',
          number: 2,
          parent: 'tl_1',
          reason: 'travel',
          forkedAt: '2026-12-06T18:00:00.000Z',
          createdAt: '2026-12-06T17:35:58.089Z',
          commands: [],
        },
        {
          id: 'tl_1',
          number: 1,
          parent: null,
          reason: 'start',
          forkedAt: T0,
          createdAt: '2026-12-06T17:35:45.720Z',
          commands: [
            {
              action: 'act',
              simulatedTime: '2026-12-06T17:40:00.000Z',
              detail: { name: 'spawn_students' },
            },
            { action: 'bad' },
          ],
          leftAt: '2026-12-06T19:30:00.959Z',
          leftAtWall: '2026-12-06T17:35:57.651Z',
          returnSnapshot: 'snap_3',
        },
      ],
    })
    expect(l.current).toBe('tl_2')
    expect(l.timelines.map((t) => [t.id, t.reason, t.leftAt, t.returnSnapshot])).toEqual([
      ['tl_2', 'travel', null, null],
      ['tl_1', 'start', '2026-12-06T19:30:00.959Z', 'snap_3'],
    ])
    expect(l.timelines[1]!.commands).toEqual([
      {
        action: 'act',
        simulatedTime: '2026-12-06T17:40:00.000Z',
        detail: { name: 'spawn_students' },
      },
    ])
  })

  it("should read a restore's or a travel's answer", () => {
    const sw = readSwitch({
      timeline: {
        id: 'tl_3',
        number: 3,
        parent: 'tl_2',
        reason: 'restore',
        forkedAt: '2026-12-06T18:31:03.359Z',
        restoredFrom: 'snap_2',
        commands: [],
      },
      left: { id: 'tl_2', leftAt: '2026-12-06T18:00:00.000Z', returnSnapshot: 'snap_4' },
      epoch: '8976f4d53699768b',
      currentSimulationTime: '2026-12-06T18:31:03.359Z',
      paused: false,
      from: '2026-12-06T18:31:03.359Z',
      replayed: 0,
      tookMs: 300,
    })
    expect(sw).toMatchObject({
      timeline: { id: 'tl_3', number: 3, reason: 'restore' },
      left: { id: 'tl_2', returnSnapshot: 'snap_4' },
      epoch: '8976f4d53699768b',
      paused: false,
      replayed: 0,
    })
    expect(readSwitch({ timeline: null, currentSimulationTime: T0 })).toBeNull()
  })

  it("should read a dry run's state, anomalous streams and events either side", () => {
    const ev = (t: string, flag = 'normal') => ({
      timestamp: t,
      stream: 'system.api.request.log',
      channel: 'system',
      data: { status: 200 },
      normalizedValue: 45.8,
      anomalyFlag: flag,
      causes: [],
    })
    const p = readPreview({
      dryRun: true,
      targetTime: '2026-12-06T18:21:59.759Z',
      from: T0,
      replayed: 1,
      tookMs: 531,
      state: {
        currentSimulationTime: '2026-12-06T18:21:59.759Z',
        stats: { entities: { students: 19997, tutors: 3500 } },
        scenario: { id: 'payment-outage', name: 'Payment outage', status: 'active' },
        activeModifiers: [{}, {}],
        activeEvents: [],
        anomalousStreams: [
          { stream: 'system.api.error', flag: 'critical', z: 4.2, count: 9, expected: 1 },
          { stream: 'x.y', flag: 'normal' },
        ],
      },
      events: {
        before: [ev('2026-12-06T18:21:50.000Z'), ev('2026-12-06T18:21:59.708Z', 'warning')],
        after: [ev('2026-12-06T18:22:00.000Z'), { stream: 'no.time' }],
      },
      windowMs: 600000,
    })!
    expect(p.scenario).toEqual({ name: 'Payment outage', status: 'active' })
    expect(p.activeModifiers).toBe(2)
    expect(p.anomalousStreams).toEqual([{ stream: 'system.api.error', flag: 'critical', z: 4.2 }])
    expect(p.before.map((e) => e.anomalyFlag)).toEqual(['normal', 'warning'])
    expect(p.after).toHaveLength(1)
    expect(p.windowMs).toBe(600000)
    expect(readPreview({ dryRun: true })).toBeNull()
  })

  it('should read the timeline of the state, and none from a generator without time travel', () => {
    const base = { currentSimulationTime: T0 }
    expect(
      readState({
        ...base,
        timeline: {
          id: 'tl_3',
          number: 3,
          parent: 'tl_2',
          reason: 'travel',
          forkedAt: '2026-12-06T18:00:00Z',
        },
      })!.timeline,
    ).toEqual({
      id: 'tl_3',
      number: 3,
      parent: 'tl_2',
      reason: 'travel',
      forkedAt: '2026-12-06T18:00:00Z',
    })
    expect(readState(base)!.timeline).toBeNull()
    expect(readState({ ...base, timeline: null })!.timeline).toBeNull()
  })
})

describe('time travel words', () => {
  it("should name the header's timeline by number and how it began", () => {
    expect(timelineLabel({ number: 1, reason: 'start' })).toBe('timeline 1')
    expect(timelineLabel({ number: 3, reason: 'travel' })).toBe('timeline 3 · travel')
    expect(timelineLabel({ number: 4, reason: 'restore' })).toBe('timeline 4 · restore')
  })

  it('should number the next timeline after every one the run had', () => {
    const list = readTimelines({
      current: 'tl_2',
      timelines: [
        { id: 'tl_2', number: 2, parent: 'tl_5', reason: 'restore', forkedAt: T0 },
        { id: 'tl_5', number: 5, parent: 'tl_4', reason: 'travel', forkedAt: T0 },
      ],
    })
    expect(nextTimelineNumber(list, { number: 2 })).toBe(6)
    expect(nextTimelineNumber(null, { number: 3 })).toBe(4)
    expect(nextTimelineNumber(null, null)).toBe(1)
  })

  it('should show sizes in B, KB and MB', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(848939)).toBe('829 KB')
    expect(formatBytes(2.7 * 1024 * 1024)).toBe('2.7 MB')
    expect(formatBytes(null)).toBe('—')
  })

  it('should show a wall time short: the time on the same day, else the day too', () => {
    const now = Date.parse('2026-12-06T20:00:00Z')
    expect(formatWall(Date.parse('2026-12-06T17:35:51.512Z'), now)).toBe('17:35:51')
    expect(formatWall(Date.parse('2026-12-05T17:35:51.512Z'), now)).toBe('12-05 17:35')
  })

  it('should tell when a restore or a travel is in flight', () => {
    expect(isSwitching(new Set(['start', 'preview', 'snapshot']))).toBe(false)
    expect(isSwitching(new Set(['travel']))).toBe(true)
    expect(isSwitching(new Set(['restore:snap_2']))).toBe(true)
  })
})

describe('the travel time field', () => {
  it("should read the page's own UTC times, with a T, fractions and explicit zones", () => {
    expect(parseUtcInput('2026-11-23 10:15:07')).toBe(Date.parse('2026-11-23T10:15:07Z'))
    expect(parseUtcInput(' 2026-11-23T10:15 ')).toBe(Date.parse('2026-11-23T10:15:00Z'))
    expect(parseUtcInput('2026-11-23T10:15:07.25')).toBe(Date.parse('2026-11-23T10:15:07.250Z'))
    expect(parseUtcInput('2026-11-23T10:15:07Z')).toBe(Date.parse('2026-11-23T10:15:07Z'))
    expect(parseUtcInput('2026-11-23T12:15:07+02:00')).toBe(Date.parse('2026-11-23T10:15:07Z'))
  })

  it('should take a span from the simulation time now, or a UTC time as it is', () => {
    const now = Date.parse('2026-11-23T10:00:00Z')
    expect(resolveTarget('-2h', now)).toBe(Date.parse('2026-11-23T08:00:00Z'))
    expect(resolveTarget('+1d 6h', now)).toBe(Date.parse('2026-11-24T16:00:00Z'))
    expect(resolveTarget('2026-11-20 00:00:00', now)).toBe(Date.parse('2026-11-20T00:00:00Z'))
    expect(resolveTarget('-2h', Number.NaN)).toBeNull()
    expect(resolveTarget('soon', now)).toBeNull()
  })

  it('should refuse what is not a time, or a day or an hour that does not exist', () => {
    for (const bad of [
      '',
      'yesterday',
      '2026-11-23',
      '2026-02-30T10:00',
      '2026-11-23T24:30',
      '2026-11-23T10:61',
    ])
      expect(parseUtcInput(bad)).toBeNull()
  })

  it("should give the travel window from the run's start to 30 simulated days past now", () => {
    const now = Date.parse('2026-12-07T00:00:00Z')
    expect(travelWindow(T0, now)).toEqual({
      from: Date.parse(T0),
      to: Date.parse('2027-01-06T00:00:00Z'),
    })
    expect(travelWindow(undefined, Number.NaN)).toEqual({ from: null, to: null })
  })
})

describe('preview figures', () => {
  it('should show students and tutors where the stats have them, next to the figures now', () => {
    const at = { entities: { students: 19997, tutors: 3500, studentsTotal: 20006, openChats: 4 } }
    const now = { entities: { students: 20003, studentsTotal: 20010 } }
    expect(previewFigures(at, now)).toEqual([
      { key: 'students', value: 19997, now: 20003 },
      { key: 'tutors', value: 3500, now: null },
    ])
  })

  it("should fall back to the first four numbers of another world's stats", () => {
    const at = { riders: 10, drivers: 4, trips: 7, zones: 3, surge: 1.2, label: 'x' }
    expect(previewFigures(at, undefined).map((f) => f.key)).toEqual([
      'riders',
      'drivers',
      'trips',
      'zones',
    ])
    expect(previewFigures(null, null)).toEqual([])
  })

  it('should pick the last events before the target and the first after it', () => {
    const e = (n: number) => ({
      timestamp: new Date(n).toISOString(),
      stream: 's.x',
      channel: 's',
      data: null,
      normalizedValue: 50,
      anomalyFlag: 'normal' as const,
    })
    const around = eventsAround({ before: [1, 2, 3, 4].map(e), after: [5, 6, 7, 8].map(e) }, 2)
    expect(around.before.map((x) => Date.parse(x.timestamp))).toEqual([3, 4])
    expect(around.after.map((x) => Date.parse(x.timestamp))).toEqual([5, 6])
  })
})
