/**
 * History end to end: the generator stores the 30-day baseline and the live
 * buckets, the gateway serves them; a past external event and a retroactive
 * scenario regenerate history through a BullMQ job whose progress reaches
 * `simulation_control`; reset returns to the identical baseline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestClient, rest, startStack, type Stack, until } from './harness.js'

let stack: Stack
const START = '2026-03-02T09:10:00Z'
const DAY = 86_400_000
const Q = 900_000

beforeAll(async () => {
  stack = await startStack({
    env: { VERISIM_SPEED: '1800', VERISIM_START: START, VERISIM_HISTORY_KEEP_VERSIONS: '2' },
  })
})
afterAll(async () => {
  await stack?.stop()
})

const { call, state } = rest(() => stack)

type Point = { timestamp: string; value: number | null; normalized: number | null }
const runStart = Date.parse(START)
const from = Math.floor(runStart / (12 * 3_600_000)) * 12 * 3_600_000 - 30 * DAY

describe('history over REST', () => {
  it('should serve 60 points per stream at 12 h over the 30 baseline days', async () => {
    const q = new URLSearchParams({
      start: new Date(from).toISOString(),
      end: new Date(from + 30 * DAY).toISOString(),
    })
    const { status, body } = await call('GET', `/api/simulation/history?${q}`)
    expect(status).toBe(200)
    const streams = body.streams as Record<string, Point[]>
    expect(Object.keys(streams)).toHaveLength(50)
    for (const pts of Object.values(streams)) expect(pts).toHaveLength(60)
    const req = streams['session.booking.requested']!
    expect(req[0]!.timestamp).toBe(new Date(from).toISOString())
    expect(req.every((p) => typeof p.value === 'number' && p.value > 0)).toBe(true)
    // the baseline's external events come with it: 2–5 a day
    const events = body.events as { at: number; redHerring: boolean }[]
    expect(events.length).toBeGreaterThanOrEqual(60)
    expect(events.length).toBeLessThanOrEqual(150)
  })

  it('should continue the baseline with the live buckets without a gap', async () => {
    await until(
      async () => Date.parse((await state()).currentSimulationTime) > runStart + 3 * 3_600_000,
      30_000,
      'three simulated hours',
    )
    const q = new URLSearchParams({
      start: new Date(runStart - DAY).toISOString(),
      end: 'now',
      interval: '15m',
      streams: 'session.booking.requested,system.heartbeat',
    })
    const { status, body } = await call('GET', `/api/simulation/history?${q}`)
    expect(status).toBe(200)
    const pts = body.streams['session.booking.requested'] as Point[]
    const ts = pts.map((p) => Date.parse(p.timestamp))
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(Q)
    expect(ts[0]).toBe(Math.floor((runStart - DAY) / Q) * Q)
    const join = ts.indexOf(Math.floor(runStart / Q) * Q)
    expect(join).toBeGreaterThan(0)
    // live buckets after the join hold events (the requests run at ~100 per 15 min by day)
    const after = pts.slice(join + 1, join + 8).map((p) => p.value as number)
    expect(after.every((v) => v > 0)).toBe(true)
    expect(body.timeRange.liveFrom).toBeDefined()
  })

  it('should list the baseline external events with their expected and actual impact', async () => {
    const q = new URLSearchParams({
      start: new Date(from).toISOString(),
      end: new Date(runStart).toISOString(),
    })
    const { status, body } = await call('GET', `/api/events/external?${q}`)
    expect(status).toBe(200)
    const events = body.events as {
      source: string
      redHerring: boolean
      impacted: boolean
      actualImpact: { actual: { change: number } }[]
    }[]
    const baseline = events.filter((e) => e.source === 'baseline')
    expect(baseline.length).toBeGreaterThanOrEqual(60)
    expect(baseline.length).toBeLessThanOrEqual(150)
    const share = baseline.filter((e) => e.redHerring).length / baseline.length
    expect(share).toBeGreaterThanOrEqual(0.3)
    expect(share).toBeLessThanOrEqual(0.4)
    expect(baseline.every((e) => Array.isArray(e.actualImpact))).toBe(true)
    expect(baseline.filter((e) => e.redHerring).every((e) => !e.impacted)).toBe(true)
  })

  it('should serve baseline statistics for every stream', async () => {
    const { status, body } = await call('GET', '/api/simulation/statistics')
    expect(status).toBe(200)
    const s = body.streams['session.completed']
    expect(s.mean).toBeGreaterThan(0)
    expect(s.percentiles.p95).toBeGreaterThanOrEqual(s.percentiles.p50)
    expect(s.patterns.weekendAvg).toBeGreaterThan(s.patterns.weekdayAvg)
    expect(Object.keys(body.streams)).toHaveLength(50)
  })

  it('should reject a bad history query with a clear error', async () => {
    const bad = await call('GET', '/api/simulation/history?interval=3h')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/interval/)
    const unknown = await call('GET', '/api/simulation/history?streams=no.such.stream')
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toMatch(/no\.such\.stream/)
  })
})

describe('regeneration', () => {
  let baseline: Record<string, Point[]>
  const q = new URLSearchParams({
    start: new Date(from).toISOString(),
    end: new Date(runStart).toISOString(),
    interval: '1h',
  })

  it('should regenerate history for a past external event, with progress on simulation_control', async () => {
    baseline = (await call('GET', `/api/simulation/history?${q}`)).body.streams
    const client = new TestClient(stack.wsUrl)
    await client.opened
    client.send({ type: 'subscribe', topics: ['simulation_control'] })
    await client.waitFor(() => client.message('subscribed'), 5_000, 'subscribed')
    const at = new Date(runStart - 10 * DAY + 19 * 3_600_000).toISOString()
    const { status, body } = await call('POST', '/api/events/external', {
      templateId: 'tiktok-mention',
      timestamp: at,
    })
    expect(status).toBe(200)
    const h = (body.event ?? body).history
    expect(h.regenerated).toBe(true)
    expect(h.version).toBe(1)
    const done = await client.waitFor(
      () =>
        client.events.find(
          (e) => e.stream === 'simulation.history' && (e.data as any).status === 'completed',
        ),
      20_000,
      'the regeneration to complete',
    )
    expect((done.data as any).version).toBe(1)
    // progress was reported on the way
    expect(
      client.events.some(
        (e) => e.stream === 'simulation.history' && (e.data as any).status === 'running',
      ),
    ).toBe(true)
    await client.close()
    const st = await state()
    expect(st.historicalMode).toBe('modified')

    const modified = (await call('GET', `/api/simulation/history?${q}`)).body.streams as Record<
      string,
      Point[]
    >
    const w = h.window as { start: string; end: string }
    // a 1 h point is inside when it overlaps the window
    const inside = (t: string) =>
      Date.parse(t) + 3_600_000 > Date.parse(w.start) && Date.parse(t) < Date.parse(w.end)
    let changedInside = 0
    for (const [name, pts] of Object.entries(modified)) {
      pts.forEach((p, i) => {
        const b = baseline[name]![i]!
        if (p.value === b.value) return
        expect(inside(p.timestamp), `${name} at ${p.timestamp} changed outside the window`).toBe(
          true,
        )
        changedInside++
      })
    }
    expect(changedInside).toBeGreaterThan(0)
    // the visits rise during the event's impact window
    const i = modified['marketing.landing.visit']!.findIndex(
      (p) =>
        Date.parse(p.timestamp) ===
        Math.floor(Date.parse(at) / 3_600_000) * 3_600_000 + 2 * 3_600_000,
    )
    expect(i).toBeGreaterThan(0)
    expect(modified['marketing.landing.visit']![i]!.value as number).toBeGreaterThan(
      baseline['marketing.landing.visit']![i]!.value as number,
    )

    const diff = await call('GET', '/api/simulation/history/diff?interval=1h')
    expect(diff.status).toBe(200)
    expect(diff.body.streams.map((s: { name: string }) => s.name)).toContain(
      'marketing.landing.visit',
    )
  })

  it('should apply a scenario retroactively as the next version', async () => {
    const { status, body } = await call('POST', '/api/simulation/history/scenario', {
      scenarioId: 'payment-outage',
      start: new Date(runStart - 5 * DAY).toISOString(),
    })
    expect(status).toBe(200)
    expect(body.version).toBe(2)
    await until(
      async () => (await call('GET', '/api/simulation/history/versions')).body.current === 2,
      20_000,
      'version 2',
    )
    // a second scenario may not overlap the first (one scenario at a time, as live)
    const overlap = await call('POST', '/api/simulation/history/scenario', {
      scenarioId: 'exam-season-surge',
      start: new Date(runStart - 5 * DAY + 3_600_000).toISOString(),
    })
    expect(overlap.status).toBe(400)
    expect(overlap.body.error.message).toMatch(
      /^scenario exam-season-surge from .*: cannot be applied on top of version 2: /,
    )
    const bad = await call('POST', '/api/simulation/history/scenario', {
      scenarioId: 'no-such-scenario',
      start: new Date(runStart - 5 * DAY).toISOString(),
    })
    expect(bad.status).toBe(404)
    const outside = await call('POST', '/api/simulation/history/scenario', {
      scenarioId: 'payment-outage',
      start: new Date(runStart + DAY).toISOString(),
    })
    expect(outside.status).toBe(400)
    expect(outside.body.error.message).toMatch(/start/)
  })

  it('should keep only the newest modified versions (VERISIM_HISTORY_KEEP_VERSIONS=2), deleting older documents', async () => {
    const { status, body } = await call('POST', '/api/events/external', {
      templateId: 'tiktok-mention',
      timestamp: new Date(runStart - 20 * DAY + 19 * 3_600_000).toISOString(),
    })
    expect(status).toBe(200)
    expect((body.event ?? body).history.version).toBe(3)
    await until(
      async () => (await call('GET', '/api/simulation/history/versions')).body.current === 3,
      20_000,
      'version 3',
    )
    const versions = (await call('GET', '/api/simulation/history/versions')).body.versions as {
      version: number
    }[]
    expect(versions.map((v) => v.version)).toEqual([0, 2, 3])
    const docs = await stack.redis.keys(`${stack.prefix}:{tutoring}:hist:v:*`)
    expect(docs.map((k) => Number(k.split(':').at(-1))).sort()).toEqual([0, 2, 3])
  })

  it('should return to the identical baseline on reset', async () => {
    const r = await call('POST', '/api/simulation/reset')
    expect(r.status).toBe(200)
    await until(async () => (await state()).historicalMode === 'baseline', 10_000, 'baseline')
    const again = (await call('GET', `/api/simulation/history?${q}`)).body.streams
    expect(JSON.stringify(again)).toBe(JSON.stringify(baseline))
  })
})
