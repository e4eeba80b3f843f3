/**
 * The archive as the page reads it: the entity ids an event names (links to
 * journeys), the journey answer and the dialog's state (pages, type filter,
 * milestones, failures), and replays (the requests, the form, the status
 * followed every second until it ends).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, createApi } from '../src/lib/api.js'
import {
  archiveFailure,
  archiveMessage,
  cancelReplay,
  contextLabel,
  dataSummary,
  defaultReplayRange,
  entityIdsOf,
  followReplay,
  getJourney,
  getReplay,
  isEntityField,
  journeyFailed,
  journeyFiltered,
  journeyLoaded,
  journeyMore,
  journeyOpened,
  markMilestones,
  readJourney,
  readReplayStatus,
  replayActive,
  replayRequest,
  shownTotal,
  startReplay,
  toggleType,
  type Journey,
  type ReplayView,
} from '../src/lib/archive.js'
import { readWorld } from '../src/worlds/model.js'

interface Call {
  url: string
  init: RequestInit
}

function fakeFetch(responses: [number, unknown][]) {
  const calls: Call[] = []
  const fn = async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} })
    const [status, body] = responses.shift() ?? [500, {}]
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    })
  }
  return { fn: fn as typeof fetch, calls }
}

const store = new Map<string, string>()
beforeEach(() => {
  store.clear()
  ;(globalThis as { sessionStorage?: unknown }).sessionStorage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  }
})
afterEach(() => {
  delete (globalThis as { sessionStorage?: unknown }).sessionStorage
  vi.useRealTimers()
})

const header = (c: Call, name: string) => (c.init.headers as Record<string, string>)[name]

const ev = (id: string, stream: string, at: string, data: Record<string, unknown> = {}) => ({
  id,
  world: 'tutoring',
  stream,
  channel: stream.split('.')[0],
  timestamp: at,
  data,
  normalizedValue: 40,
  anomalyFlag: 'normal',
})

const journeyAnswer = {
  entityId: 'stu_7',
  epoch: '0123456789abcdef',
  total: 4,
  first: '2026-11-23T08:00:00.000Z',
  last: '2026-11-23T09:30:00.000Z',
  streams: { 'customer.search': 2, 'customer.booking': 1, 'session.completed': 1 },
  milestones: [
    {
      name: 'first_booking',
      label: 'First booking',
      at: '2026-11-23T08:40:00.000Z',
      eventId: '1700000002000-0',
      stream: 'customer.booking',
    },
    {
      name: 'first_search',
      label: 'First search',
      at: '2026-11-23T08:00:00.000Z',
      eventId: '1700000000000-0',
      stream: 'customer.search',
    },
    { name: 'broken', at: 'not a time', eventId: 'x' },
  ],
  context: [
    {
      ...ev('1700000001000-0', 'external.marketing', '2026-11-23T08:20:00.000Z', {
        id: 'ext_1',
        title: 'Spring campaign',
        severity: 'warning',
        timestamp: '2026-11-23T08:20:00.000Z',
      }),
      channel: 'external',
    },
    {
      ...ev('1700000001500-0', 'simulation.ack', '2026-11-23T08:30:00.000Z', {
        ref: null,
        action: 'set_scenario',
        success: true,
        result: { scenarioId: 'payment-outage' },
      }),
      channel: 'simulation_control',
    },
  ],
  events: [
    ev('1700000000000-0', 'customer.search', '2026-11-23T08:00:00.000Z', {
      studentId: 'stu_7',
      subject: 'math',
    }),
    ev('1700000002000-0', 'customer.booking', '2026-11-23T08:40:00.000Z', {
      studentId: 'stu_7',
      tutorId: 'tut_3',
      sessionId: 'ses_9',
    }),
    { id: 'bad' },
  ],
  nextCursor: '1700000002000-0',
}

describe('entity ids of an event', () => {
  it('should take every …Id field (strings, numbers, arrays of them) once, skipping empty ones', () => {
    expect(
      entityIdsOf({
        studentId: 'stu_7',
        tutorId: 42,
        sessionId: ['ses_1', 'ses_2'],
        peerId: ['stu_7', '', null],
        // the archive's rule: a name ending in `Id`, as the archive indexes it
        tutorIds: ['tut_1'],
        courseId: '',
        subject: 'math',
        valid: true,
        paid: 'stu_x',
      }),
    ).toEqual(['stu_7', '42', 'ses_1', 'ses_2'])
    expect(entityIdsOf(null)).toEqual([])
    expect(isEntityField('studentId')).toBe(true)
    expect(isEntityField('id')).toBe(false)
  })

  it("should follow the world's declared entity fields instead of the …Id rule", () => {
    const world = readWorld({ id: 'shop', entityFields: ['customer', 'orderId'] })!
    expect(world.entityFields).toEqual(['customer', 'orderId'])
    expect(readWorld({ id: 'tutoring' })!.entityFields).toBeUndefined()
    const data = { customer: 'c_1', orderId: 'o_2', productId: 'p_3' }
    expect(entityIdsOf(data, world.entityFields)).toEqual(['c_1', 'o_2'])
    expect(isEntityField('productId', world.entityFields)).toBe(false)
  })

  it('should summarise data in one line with the entity ids to link', () => {
    expect(
      dataSummary({
        studentId: 'stu_7',
        subject: 'math',
        detail: { x: 1 },
        missing: null,
        tutorId: ['tut_1', 'tut_2'],
        price: 30,
      }),
    ).toEqual([
      { key: 'studentId', text: 'stu_7', ids: ['stu_7'] },
      { key: 'subject', text: 'math', ids: [] },
      { key: 'tutorId', text: 'tut_1,tut_2', ids: ['tut_1', 'tut_2'] },
      { key: 'price', text: '30', ids: [] },
    ])
    const many = Object.fromEntries([...'abcdefg'].map((k) => [k, 1]))
    expect(dataSummary(many).map((p) => p.key)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(dataSummary('x')).toEqual([])
  })
})

describe('journey', () => {
  it('should read the answer: counts most first, milestones in time order, malformed entries dropped', () => {
    const j = readJourney(journeyAnswer, 'stu_7')
    expect(j.total).toBe(4)
    expect(j.streams).toEqual([
      { stream: 'customer.search', count: 2 },
      { stream: 'customer.booking', count: 1 },
      { stream: 'session.completed', count: 1 },
    ])
    expect(j.milestones.map((m) => m.name)).toEqual(['first_search', 'first_booking'])
    expect(j.events.map((e) => e.id)).toEqual(['1700000000000-0', '1700000002000-0'])
    expect(j.context).toHaveLength(2)
    expect(j.nextCursor).toBe('1700000002000-0')
    expect(readJourney(null, 'x')).toMatchObject({ entityId: 'x', total: 0, events: [] })
  })

  it('should mark each milestone on the event whose id it names', () => {
    const j = readJourney(journeyAnswer, 'stu_7')
    const rows = markMilestones(j.events, j.milestones)
    expect(rows.map((r) => r.milestones.map((m) => m.name))).toEqual([
      ['first_search'],
      ['first_booking'],
    ])
    // two milestones on one event; one whose event is not loaded marks nothing
    const both = markMilestones(j.events.slice(0, 1), [
      { ...j.milestones[0]!, name: 'a' },
      { ...j.milestones[0]!, name: 'b' },
      j.milestones[1]!,
    ])
    expect(both[0]!.milestones.map((m) => m.name)).toEqual(['a', 'b'])
  })

  it('should say what acted on the world in a few words', () => {
    const j = readJourney(journeyAnswer, 'stu_7')
    expect(j.context.map(contextLabel)).toEqual([
      'Spring campaign (warning)',
      'control: set_scenario payment-outage',
    ])
  })

  it('should ask for the entity (encoded), the page size, the types and the cursor', async () => {
    const f = fakeFetch([
      [200, journeyAnswer],
      [200, { ...journeyAnswer, events: [], nextCursor: null }],
    ])
    const api = createApi({ fetch: f.fn })
    const j = await getJourney(api, 'stu 7/a')
    expect(f.calls[0]!.url).toBe('/api/journeys/stu%207%2Fa?limit=200')
    expect(j.entityId).toBe('stu_7')
    await getJourney(api, 'stu_7', {
      types: ['customer.search', 'customer.booking'],
      cursor: '1700000002000-0',
    })
    expect(f.calls[1]!.url).toBe(
      '/api/journeys/stu_7?limit=200&types=customer.search%2Ccustomer.booking&cursor=1700000002000-0',
    )
    expect(f.calls[1]!.init.method).toBe('GET')
  })

  it('should tell an archive that is off from a refused query and a missing endpoint', async () => {
    const f = fakeFetch([
      [
        503,
        {
          error: {
            code: 'VS_GW_ARCHIVE_UNAVAILABLE',
            message: 'no archive configured (DATABASE_URL is not set)',
          },
        },
      ],
      [
        400,
        {
          error: {
            code: 'VS_GW_BAD_REQUEST',
            message: 'types: unknown stream "nope"; expected stream names of GET /api/streams',
          },
        },
      ],
      [404, { error: { code: 'VS_GW_NOT_FOUND', message: 'no route GET /api/journeys/x' } }],
    ])
    const api = createApi({ fetch: f.fn })
    const fail = (p: Promise<unknown>) => p.then(() => null, archiveFailure)
    const off = await fail(getJourney(api, 'x'))
    expect(off).toEqual({ kind: 'off', message: 'no archive configured (DATABASE_URL is not set)' })
    expect(archiveMessage(off!)).toBe(
      'The archive is off: no archive configured (DATABASE_URL is not set)',
    )
    const bad = await fail(getJourney(api, 'x', { types: ['nope'] }))
    expect(bad).toEqual({
      kind: 'error',
      message: 'types: unknown stream "nope"; expected stream names of GET /api/streams',
    })
    expect(archiveMessage(bad!)).toBe(bad!.message)
    expect(await fail(getJourney(api, 'x'))).toMatchObject({ kind: 'unavailable' })
  })

  it('should append a next page without repeating an event, and start again on a new filter', () => {
    const first = readJourney(journeyAnswer, 'stu_7')
    let v = journeyOpened('stu_7', ['tut_3'])
    expect(v).toMatchObject({ status: 'loading', journey: null, types: [], trail: ['tut_3'] })
    v = journeyLoaded(v, first, false)
    expect(v.status).toBe('ok')
    v = journeyMore(v)
    expect(v.more).toBe(true)
    const next: Journey = {
      ...first,
      events: [
        first.events[1]!,
        { ...first.events[0]!, id: '1700000003000-0', stream: 'session.completed' },
      ],
      nextCursor: null,
    }
    v = journeyLoaded(v, next, true)
    expect(v.journey!.events.map((e) => e.id)).toEqual([
      '1700000000000-0',
      '1700000002000-0',
      '1700000003000-0',
    ])
    expect(v.journey!.nextCursor).toBeNull()
    expect(v.more).toBe(false)

    v = journeyFiltered(v, ['session.completed'])
    expect(v).toMatchObject({ status: 'loading', types: ['session.completed'] })
    expect(v.journey).not.toBeNull() // the header stays while the first page is read again
    v = journeyLoaded(v, { ...first, events: [next.events[1]!], nextCursor: null }, false)
    expect(v.journey!.events.map((e) => e.id)).toEqual(['1700000003000-0'])
  })

  it('should keep the loaded pages when a next page fails, and show the failure of a first one', () => {
    const first = readJourney(journeyAnswer, 'stu_7')
    const shown = journeyLoaded(journeyOpened('stu_7'), first, false)
    const more = journeyFailed(
      journeyMore(shown),
      { kind: 'error', message: 'gateway unreachable: boom' },
      true,
    )
    expect(more).toMatchObject({
      status: 'ok',
      more: false,
      moreError: 'gateway unreachable: boom',
    })
    expect(more.journey).toBe(first)
    const off = journeyFailed(
      journeyOpened('stu_7'),
      { kind: 'off', message: 'no archive configured' },
      false,
    )
    expect(off).toMatchObject({ status: 'off', message: 'no archive configured' })
    const offMore = journeyFailed(journeyMore(shown), { kind: 'off', message: 'gone' }, true)
    expect(offMore.moreError).toBe('The archive is off: gone')
  })

  it('should filter by type: every type or none checked is no filter', () => {
    const all = ['a', 'b', 'c']
    expect(toggleType([], 'b', all)).toEqual(['a', 'c'])
    expect(toggleType(['a', 'c'], 'b', all)).toEqual([])
    expect(toggleType(['a'], 'c', all)).toEqual(['a', 'c'])
    expect(toggleType(['c'], 'c', all)).toEqual([])
    expect(toggleType(['c', 'gone'], 'a', all)).toEqual(['a', 'c'])
    const j = readJourney(journeyAnswer, 'stu_7')
    expect(shownTotal(j, [])).toBe(4)
    expect(shownTotal(j, ['customer.search', 'session.completed'])).toBe(3)
  })
})

const status = (over: Record<string, unknown> = {}) => ({
  id: 'r1',
  topic: 'replay:r1',
  state: 'running',
  total: 200,
  sent: 50,
  progress: 0.25,
  start: '2026-11-23T09:00:00.000Z',
  end: '2026-11-23T10:00:00.000Z',
  speed: 60,
  createdAt: '2026-12-07T10:00:00.000Z',
  ...over,
})

describe('replay', () => {
  it('should read a status defensively', () => {
    expect(readReplayStatus(status())).toMatchObject({
      id: 'r1',
      topic: 'replay:r1',
      state: 'running',
      progress: 0.25,
      error: null,
    })
    expect(
      readReplayStatus({ id: 'r2', state: 'failed', total: 10, sent: 5, error: 'archive gone' }),
    ).toMatchObject({ topic: 'replay:r2', progress: 0.5, error: 'archive gone' })
    expect(readReplayStatus({ id: 'r3', progress: 7, error: { message: 'x' } })).toMatchObject({
      state: 'running',
      progress: 1,
      error: 'x',
    })
    expect(readReplayStatus({ state: 'done' })).toBeNull()
  })

  it('should prefill the last hour of simulation time', () => {
    expect(defaultReplayRange(Date.parse('2026-11-23T10:15:07.250Z'))).toEqual({
      start: '2026-11-23T09:15:07Z',
      end: '2026-11-23T10:15:07Z',
    })
    expect(defaultReplayRange(Number.NaN)).toBeNull()
  })

  it('should build the request from the form, or name the field to fix', () => {
    const now = Date.parse('2026-11-23T10:00:00Z')
    const form = { start: '2026-11-23T09:00:00Z', end: '-5m', streams: '', speed: '60' }
    expect(replayRequest(form, now)).toEqual({
      ok: true,
      body: { start: '2026-11-23T09:00:00.000Z', end: '2026-11-23T09:55:00.000Z', speed: 60 },
    })
    expect(
      replayRequest(
        {
          ...form,
          start: '2026-11-23 08:30',
          streams: ' customer.*, ,system.api.error,customer.*',
        },
        now,
      ),
    ).toMatchObject({
      ok: true,
      body: { start: '2026-11-23T08:30:00.000Z', streams: ['customer.*', 'system.api.error'] },
    })
    expect(replayRequest({ ...form, speed: '' }, now)).toMatchObject({ body: { speed: 60 } })
    expect(replayRequest({ ...form, start: 'yesterday' }, now)).toMatchObject({
      ok: false,
      field: 'start',
    })
    expect(replayRequest({ ...form, end: '2026-11-23T08:00:00Z' }, now)).toMatchObject({
      ok: false,
      field: 'end',
      message: 'End must be after start.',
    })
    expect(replayRequest({ ...form, speed: '0' }, now)).toMatchObject({ ok: false, field: 'speed' })
    expect(replayRequest({ ...form, speed: 'fast' }, now)).toMatchObject({ field: 'speed' })
  })

  it('should post the replay with the admin token and an Idempotency-Key, read and cancel it', async () => {
    store.set('verisim:adminToken', 'secret')
    const f = fakeFetch([
      [202, status({ sent: 0, progress: 0 })],
      [200, status()],
      [200, status({ state: 'cancelled' })],
    ])
    const api = createApi({ fetch: f.fn })
    const body = {
      start: '2026-11-23T09:00:00.000Z',
      end: '2026-11-23T10:00:00.000Z',
      streams: ['customer.*'],
      speed: 60,
    }
    expect(await startReplay(api, body)).toMatchObject({ id: 'r1', state: 'running', sent: 0 })
    expect(f.calls[0]!.url).toBe('/api/streams/replay')
    expect(f.calls[0]!.init.method).toBe('POST')
    expect(JSON.parse(String(f.calls[0]!.init.body))).toEqual(body)
    expect(header(f.calls[0]!, 'authorization')).toBe('Bearer secret')
    expect(header(f.calls[0]!, 'idempotency-key')).toMatch(/^[0-9a-f]{32}$/)
    expect(await getReplay(api, 'r1')).toMatchObject({ sent: 50 })
    expect(f.calls[1]!.url).toBe('/api/streams/replay/r1')
    expect(await cancelReplay(api, 'r1')).toMatchObject({ state: 'cancelled' })
    expect(f.calls[2]!.init.method).toBe('DELETE')
    expect(f.calls[2]!.url).toBe('/api/streams/replay/r1')
  })

  it('should pass on the refusal of a replay: archive off or a bad range', async () => {
    const f = fakeFetch([
      [
        503,
        {
          error: { code: 'VS_GW_ARCHIVE_UNAVAILABLE', message: 'no archive configured' },
        },
      ],
      [400, { error: { code: 'VS_GW_BAD_REQUEST', message: 'end is not after start' } }],
      [202, { accepted: true }],
    ])
    const api = createApi({ fetch: f.fn })
    const body = { start: 'a', end: 'b', speed: 60 }
    const off = await startReplay(api, body).catch((e: unknown) => e)
    expect(off).toMatchObject({ status: 503, code: 'VS_GW_ARCHIVE_UNAVAILABLE' })
    expect(archiveMessage(off as ApiError)).toBe('The archive is off: no archive configured')
    const bad = await startReplay(api, body).catch((e: unknown) => e)
    expect(archiveMessage(bad as ApiError)).toBe('end is not after start')
    await expect(startReplay(api, body)).rejects.toMatchObject({ code: 'VS_UI_BAD_ANSWER' })
  })

  it('should read a running replay every second until it is done', async () => {
    vi.useFakeTimers()
    const f = fakeFetch([
      [200, status({ sent: 100, progress: 0.5 })],
      [200, status({ sent: 200, progress: 1, state: 'done' })],
    ])
    const views: ReplayView[] = []
    followReplay(createApi({ fetch: f.fn }), readReplayStatus(status())!, (v) => views.push(v))
    await vi.advanceTimersByTimeAsync(999)
    expect(f.calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(views.map((v) => v.status.sent)).toEqual([100])
    await vi.advanceTimersByTimeAsync(1000)
    expect(views.map((v) => v.status.state)).toEqual(['running', 'done'])
    expect(replayActive(views[1]!)).toBe(false)
    await vi.advanceTimersByTimeAsync(5000)
    expect(f.calls).toHaveLength(2)
    expect(f.calls[0]!.url).toBe('/api/streams/replay/r1')
  })

  it('should try again after a failed read, give up on a replay the gateway does not know, and stop when told', async () => {
    vi.useFakeTimers()
    const f = fakeFetch([
      [503, { error: { code: 'VS_GW_NOT_READY', message: 'gateway not ready' } }],
      [404, { error: { code: 'VS_GW_NOT_FOUND', message: 'no replay r1' } }],
      [200, status()],
    ])
    const views: ReplayView[] = []
    const api = createApi({ fetch: f.fn })
    followReplay(api, readReplayStatus(status())!, (v) => views.push(v))
    await vi.advanceTimersByTimeAsync(1000)
    expect(views[0]).toMatchObject({ lost: false, status: { sent: 50 } })
    expect(views[0]!.pollError).toMatch(/trying again.*gateway not ready/)
    expect(replayActive(views[0]!)).toBe(true)
    await vi.advanceTimersByTimeAsync(1000)
    expect(views[1]).toMatchObject({ lost: true })
    expect(views[1]!.pollError).toMatch(/no replay r1/)
    expect(replayActive(views[1]!)).toBe(false)
    await vi.advanceTimersByTimeAsync(3000)
    expect(f.calls).toHaveLength(2)

    const g = fakeFetch([[200, status()]])
    const stopped: ReplayView[] = []
    const follow = followReplay(createApi({ fetch: g.fn }), readReplayStatus(status())!, (v) =>
      stopped.push(v),
    )
    follow.stop()
    await vi.advanceTimersByTimeAsync(3000)
    expect(g.calls).toHaveLength(0)
    expect(stopped).toEqual([])
    // a finished replay is not read at all
    followReplay(api, readReplayStatus(status({ state: 'done' }))!, (v) => views.push(v))
    await vi.advanceTimersByTimeAsync(3000)
    expect(f.calls).toHaveLength(2)
  })
})
