import { describe, expect, it } from 'vitest'
import {
  describeHistory,
  groupTemplates,
  readHistoryStatus,
  readExternalEvent,
  readModifier,
  readScenario,
  readState,
  readTemplate,
  systemStatus,
  templateLabel,
  type EventTemplate,
} from '../src/lib/model.js'

const state = {
  world: 'tutoring',
  seed: 42,
  speed: 60,
  running: true,
  paused: false,
  currentSimulationTime: '2026-11-23T10:00:00.000Z',
  activeModifiers: [],
  activeEvents: [],
  recentAnomalies: [
    {
      id: '1-1',
      stream: 'system.api.request.log',
      timestamp: '2026-11-23T09:59:00Z',
      normalizedValue: 91,
      anomalyFlag: 'warning',
    },
    { stream: 'x', timestamp: 't', anomalyFlag: 'normal' },
  ],
  historicalMode: 'baseline',
}

describe('reading the state', () => {
  it('should read the served state and drop malformed entries', () => {
    const s = readState(state)!
    expect(s.world).toBe('tutoring')
    expect(s.recentAnomalies).toHaveLength(1)
    expect(systemStatus(s)).toBe('Baseline')
    expect(readState({})).toBeNull()
  })

  it('should tell Running, Settling and Baseline from the modifiers', () => {
    const active = readState({
      ...state,
      activeModifiers: [{ id: 'm1', scenarioId: 'payment-outage', status: 'active' }],
    })
    expect(systemStatus(active)).toBe('Running')
    const settling = readState({
      ...state,
      activeModifiers: [{ id: 'm1', status: 'settling', settlingUntil: '2026-11-23T12:00:00Z' }],
    })
    expect(systemStatus(settling)).toBe('Settling')
    expect(settling!.activeModifiers[0]!.endsAt).toBe('2026-11-23T12:00:00Z')
    expect(systemStatus(null)).toBe('Baseline')
  })

  it("should read a modifier's streams from affectedStreams (object or list)", () => {
    expect(readModifier({ affectedStreams: { 'a.b': {}, 'c.d': {} } }, 0)!.streams).toEqual([
      'a.b',
      'c.d',
    ])
    expect(readModifier({ affectedStreams: ['a.b'], name: 'Surge' }, 3)).toMatchObject({
      id: 'modifier-3',
      name: 'Surge',
      streams: ['a.b'],
    })
  })
})

describe('reading external events and scenarios', () => {
  const ev = {
    id: 'evt_1',
    timestamp: '2026-11-23T10:00:00Z',
    type: 'marketing',
    title: 'TikTok mention',
    severity: 'warning',
    expectedImpact: {
      streams: ['customer.signup'],
      direction: 'increase',
      magnitude: 'high',
      duration: '6h',
    },
    templateId: 'tiktok-mention',
  }

  it('should read an external event from REST and from a live envelope', () => {
    expect(readExternalEvent(ev)).toMatchObject({
      id: 'evt_1',
      severity: 'warning',
      templateId: 'tiktok-mention',
    })
    const envelope = {
      id: '9-1',
      channel: 'external',
      stream: 'external.marketing',
      timestamp: ev.timestamp,
      data: ev,
    }
    expect(readExternalEvent(envelope)).toMatchObject({ id: 'evt_1', title: 'TikTok mention' })
    expect(readExternalEvent({ id: 'x' })).toBeNull()
    expect(readExternalEvent({ ...ev, severity: 'odd' })!.severity).toBe('info')
  })

  it('should read scenario cards', () => {
    expect(
      readScenario({
        id: 'exam-season-surge',
        name: 'Exam Season Surge',
        description: 'd',
        duration: 'PT8H',
      }),
    ).toEqual({
      id: 'exam-season-surge',
      name: 'Exam Season Surge',
      description: 'd',
      duration: 'PT8H',
    })
    expect(readScenario({ name: 'no id' })).toBeNull()
  })
})

describe('the external-event library', () => {
  const served = [
    {
      id: 'tiktok-mention',
      category: 'marketing',
      title: 'Platform mentioned in a viral TikTok',
      description: 'A burst of visitors.',
      severity: 'info',
      icon: '🎵',
      redHerring: false,
      timing: 'Evenings',
      expectedImpact: {
        streams: ['customer.signup'],
        direction: 'increase',
        magnitude: 'high',
        delay: 'PT0S',
        duration: 'PT6H',
      },
    },
    { id: 'aws-outage', category: 'infrastructure', title: 'Cloud outage', icon: '☁️' },
    { id: 'industry-report', category: 'competitive', title: 'Report', redHerring: true },
    { id: 'podcast', category: 'marketing', title: 'Podcast', icon: '🎙️' },
    { title: 'no id' },
  ]
  const list = served.map(readTemplate).filter((t): t is EventTemplate => t !== null)

  it('should read served templates and drop those without an id', () => {
    expect(list.map((t) => t.id)).toEqual([
      'tiktok-mention',
      'aws-outage',
      'industry-report',
      'podcast',
    ])
    expect(list[0]).toEqual({
      id: 'tiktok-mention',
      category: 'marketing',
      title: 'Platform mentioned in a viral TikTok',
      description: 'A burst of visitors.',
      severity: 'info',
      icon: '🎵',
      redHerring: false,
      timing: 'Evenings',
      expectedImpact: {
        streams: ['customer.signup'],
        direction: 'increase',
        magnitude: 'high',
        delay: 'PT0S',
        duration: 'PT6H',
      },
    })
    expect(list[1]).toMatchObject({ description: '', severity: 'info', expectedImpact: null })
  })

  it('should group templates by category in library order', () => {
    expect(groupTemplates(list).map((g) => [g.category, g.templates.map((t) => t.id)])).toEqual([
      ['marketing', ['tiktok-mention', 'podcast']],
      ['infrastructure', ['aws-outage']],
      ['competitive', ['industry-report']],
    ])
    expect(groupTemplates([])).toEqual([])
  })

  it('should label an option with icon and title and mark red herrings', () => {
    expect(templateLabel(list[0]!)).toBe('🎵 Platform mentioned in a viral TikTok')
    expect(templateLabel(list[2]!)).toBe('Report (red herring)')
  })
})

describe('the history status', () => {
  it('should say what the history shows and how far a regeneration is', () => {
    const base = readState({ ...state, history: { version: 0, job: null } })
    expect(describeHistory(readHistoryStatus(base))).toBe('baseline')
    const running = readState({
      ...state,
      historicalMode: 'modified',
      history: { version: 1, job: { id: 'v2', version: 2, state: 'running', progress: 45.2 } },
    })
    expect(readHistoryStatus(running)).toEqual({
      mode: 'modified',
      version: 1,
      job: { version: 2, state: 'running', progress: 45.2 },
    })
    expect(describeHistory(readHistoryStatus(running))).toBe(
      'modified history, version 1; regenerating version 2: 45 %',
    )
    const failed = readState({
      ...state,
      history: { version: 0, job: { version: 1, state: 'failed', progress: 0, error: 'boom' } },
    })
    expect(describeHistory(readHistoryStatus(failed))).toBe(
      'baseline; regenerating version 1 failed: boom',
    )
    // an older generator without `history`
    expect(describeHistory(readHistoryStatus(readState(state)))).toBe('')
  })
})
