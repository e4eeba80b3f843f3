/**
 * Snapshots, restore and time travel against the generator and two gateways as
 * real processes (issue 19): a restored snapshot and a travel back continue
 * with exactly the events the original run had after that moment (a world
 * action before it included); a dry run previews them without switching;
 * streaming clients of both gateways are told once (closed 4010, then
 * `catchup` `epoch_changed` and a snapshot of the new streams), see no event
 * of the old line after it, and the SDK carries on on the new epoch; the
 * timelines left are listed with their commands and a way back; bad input is
 * refused naming what was wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient, type ResetInfo, type StreamEvent } from '@verisim/client'
import {
  compare,
  expectIncreasing,
  startStack,
  storedEvents,
  TestClient,
  type Envelope,
  type Stack,
} from './harness.js'

const TOKEN = 'time-travel-token'
const MINUTE = 60_000
/** The stretch after the snapshot compared between the lines. */
const SPAN = 45 * MINUTE

let stack: Stack
let secured: { url: string }

beforeAll(async () => {
  stack = await startStack({
    env: { VERISIM_SPEED: '600', VERISIM_SEED: '19', VERISIM_TIMELINE_EVERY_HOURS: '1' },
  })
  secured = await stack.startGateway({ ADMIN_TOKEN: TOKEN })
}, 60_000)
afterAll(async () => {
  await stack?.stop()
})

async function call<T = Record<string, any>>(
  method: string,
  path: string,
  body?: unknown,
  base = stack.gatewayUrl,
  token?: string,
): Promise<{ status: number; body: T }> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await r.text()
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T }
}

const simNow = async (): Promise<number> =>
  Date.parse((await call('GET', '/api/simulation/state')).body.currentSimulationTime)

async function waitSim(t: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await simNow()) < t) {
    if (Date.now() > deadline)
      throw new Error(`simulation did not reach ${new Date(t).toISOString()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The world's stored events (control channel left out) with timestamp in (from, to], as comparable lines. */
async function eventsBetween(from: number, to: number): Promise<string[]> {
  const state = (await call('GET', '/api/simulation/state')).body
  const all = await storedEvents(stack.redis, stack.prefix, 'tutoring', null, state.lastId)
  return all
    .filter((e) => e.channel !== 'simulation_control')
    .filter((e) => {
      const t = Date.parse(e.timestamp)
      return t > from && t <= to
    })
    .map(line)
    .sort()
}

function line(e: Envelope | Record<string, unknown>): string {
  const { stream, timestamp, data, normalizedValue, anomalyFlag, causes } = e as Record<
    string,
    unknown
  >
  return JSON.stringify({ stream, timestamp, data, normalizedValue, anomalyFlag, causes })
}

describe('snapshots, restore and time travel', () => {
  let snapId: string
  let snapAt: number
  /** The original line's events over the SPAN after the snapshot. */
  let original: string[]

  it('should save a snapshot, list it, and refuse what it cannot do naming why', async () => {
    const t0 = await simNow()
    // a world action before the snapshot: the continuation must carry it too
    const act = await call('POST', '/api/world/actions/spawn_students', { count: 25 })
    expect(act.status).toBe(200)
    await waitSim(t0 + 10 * MINUTE)
    const created = await call('POST', '/api/simulation/snapshot', {
      name: 'before lunch',
      description: 'a moment to come back to',
    })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^snap_\d+$/),
      name: 'before lunch',
      description: 'a moment to come back to',
      kind: 'manual',
      timeline: 'tl_1',
    })
    expect(created.body.sizeBytes).toBeGreaterThan(1000)
    snapId = created.body.id
    snapAt = Date.parse(created.body.simulatedTime)

    const list = await call('GET', '/api/simulation/snapshots')
    expect(list.status).toBe(200)
    const kinds = list.body.snapshots.map((s: { kind: string }) => s.kind)
    expect(kinds).toEqual(['origin', 'manual'])
    expect(list.body.automatic.count).toBeGreaterThan(0)
    expect(list.body.automatic.everyHours).toBe(1)
    expect(list.body.timeline.id).toBe('tl_1')

    // refused, each naming what was wrong
    const origin = list.body.snapshots[0].id as string
    const del = await call('DELETE', `/api/simulation/snapshots/${origin}`)
    expect(del.status).toBe(409)
    expect(del.body.error.code).toBe('VS_GEN_SNAPSHOT_PROTECTED')
    const unknown = await call('POST', '/api/simulation/restore/snap_999')
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('VS_GEN_UNKNOWN_SNAPSHOT')
    const badId = await call('POST', '/api/simulation/restore/latest')
    expect(badId.status).toBe(400)
    expect(badId.body.error.message).toMatch(/id/)
    const noName = await call('POST', '/api/simulation/snapshot', { description: 'x' })
    expect(noName.status).toBe(400)
    expect(noName.body.error.message).toMatch(/name/)
    const early = await call('POST', '/api/simulation/travel', {
      targetTime: '2001-01-01T00:00:00Z',
    })
    expect(early.status).toBe(400)
    expect(early.body.error.message).toMatch(
      /targetTime: 2001-01-01T00:00:00\.000Z is outside the run; expected a time from/,
    )
    const badTime = await call('POST', '/api/simulation/travel', { targetTime: 'yesterday' })
    expect(badTime.status).toBe(400)
    expect(badTime.body.error.message).toMatch(/targetTime/)
    // the token guards every mutation; reads stay open
    const anon = await call(
      'POST',
      '/api/simulation/travel',
      { targetTime: created.body.simulatedTime },
      secured.url,
    )
    expect(anon.status).toBe(401)
    expect((await call('GET', '/api/simulation/snapshots', undefined, secured.url)).status).toBe(
      200,
    )
  })

  it('should restore a snapshot and continue with exactly the events the run had after it', async () => {
    await waitSim(snapAt + SPAN + 5 * MINUTE)
    original = await eventsBetween(snapAt, snapAt + SPAN)
    expect(original.length).toBeGreaterThan(300)
    const epochBefore = (await call('GET', '/api/simulation/state')).body.epoch
    const restored = await call('POST', `/api/simulation/restore/${snapId}`)
    expect(restored.status).toBe(200)
    expect(restored.body.timeline).toMatchObject({ id: 'tl_2', parent: 'tl_1', reason: 'restore' })
    expect(restored.body.currentSimulationTime).toBe(new Date(snapAt).toISOString())
    expect(restored.body.epoch).not.toBe(epochBefore)
    const state = (await call('GET', '/api/simulation/state')).body
    expect(state.epoch).toBe(restored.body.epoch)
    expect(state.timeline).toMatchObject({ id: 'tl_2', reason: 'restore' })
    await waitSim(snapAt + SPAN + 5 * MINUTE)
    expect(await eventsBetween(snapAt, snapAt + SPAN)).toEqual(original)
    // the history is the new line's: each 15-minute bucket after the snapshot counts the
    // events once (the old line's counts were deleted, not added to)
    const stream = 'session.booking.requested'
    const first = Math.ceil(snapAt / (15 * MINUTE)) * 15 * MINUTE
    const h = await call(
      'GET',
      `/api/simulation/history?interval=15m&streams=${stream}&start=${new Date(first).toISOString()}&end=${new Date(first + 30 * MINUTE).toISOString()}`,
    )
    expect(h.status).toBe(200)
    const points = h.body.streams[stream] as { timestamp: string; value: number }[]
    expect(points).toHaveLength(2) // both within SPAN
    for (const p of points) {
      const b = Date.parse(p.timestamp)
      const n = original.filter((l) => {
        const e = JSON.parse(l) as { stream: string; timestamp: string }
        const t = Date.parse(e.timestamp)
        return e.stream === stream && t >= b && t < b + 15 * MINUTE
      }).length
      expect(p.value, p.timestamp).toBe(n)
    }
  }, 120_000)

  it('should preview a moment (dryRun) without switching, with the events the run has there', async () => {
    const target = snapAt + 20 * MINUTE + 7_123
    const before = (await call('GET', '/api/simulation/state')).body
    const preview = await call('POST', '/api/simulation/travel', {
      targetTime: new Date(target).toISOString(),
      dryRun: true,
    })
    expect(preview.status).toBe(200)
    expect(preview.body).toMatchObject({ dryRun: true, targetTime: new Date(target).toISOString() })
    expect(preview.body.state.currentSimulationTime).toBe(new Date(target).toISOString())
    expect(preview.body.state.stats.entities.students).toBeGreaterThan(0)
    const after = (preview.body.events.after as Record<string, unknown>[]).map(line)
    expect(after.length).toBeGreaterThan(0)
    for (const e of after) expect(original).toContain(e)
    const beforeTarget = (preview.body.events.before as Record<string, unknown>[]).map(line)
    for (const e of beforeTarget) expect(original).toContain(e)
    const now = (await call('GET', '/api/simulation/state')).body
    expect(now.epoch).toBe(before.epoch)
    expect(now.timeline.id).toBe(before.timeline.id)
  })

  it('should travel back: both gateways tell their clients once, nothing stale follows, the SDK carries on, and the run is exact', async () => {
    const target = snapAt + 30 * MINUTE + 4_321
    const clients = [
      new TestClient(stack.wsUrl),
      new TestClient(secured.url.replace('http', 'ws') + '/ws'),
    ]
    await Promise.all(clients.map((c) => c.opened))
    clients[1]!.send({ type: 'auth', token: TOKEN })
    for (const c of clients) c.send({ type: 'subscribe', topics: ['*'] })
    for (const c of clients)
      await c.waitFor(() => c.events.length > 20, 20_000, 'events before the travel')
    const sdkEvents: StreamEvent[] = []
    const resets: ResetInfo[] = []
    const sdk = createClient({
      url: stack.wsUrl,
      topics: ['*'],
      WebSocket,
      reconnect: { initialMs: 50, maxMs: 500 },
    })
    sdk.on('batch', (events) => void sdkEvents.push(...events))
    sdk.on('reset', (info) => void resets.push(info))
    const deadline = Date.now() + 20_000
    while (sdkEvents.length < 20 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))

    const travelled = await call('POST', '/api/simulation/travel', {
      targetTime: new Date(target).toISOString(),
    })
    expect(travelled.status).toBe(200)
    expect(travelled.body).toMatchObject({
      timeline: { id: 'tl_3', parent: 'tl_2', reason: 'travel' },
      currentSimulationTime: new Date(target).toISOString(),
      paused: true,
    })
    expect(travelled.body.left).toMatchObject({
      id: 'tl_2',
      returnSnapshot: expect.stringMatching(/^snap_/),
    })
    const epoch = travelled.body.epoch as string
    const floor = JSON.parse((await stack.redis.get(`${stack.prefix}:{tutoring}:epoch`))!)
      .floorId as string

    // each connected client is closed once (4010) and, resuming, told epoch_changed, then the new streams' snapshot
    for (const c of clients) {
      const [code, reason] = await c.closed
      expect(code).toBe(4010)
      expect(reason).toContain('epoch changed')
      for (const e of c.events) expect(compare(e.id, floor)).toBeLessThanOrEqual(0)
    }
    const resumed = [
      new TestClient(stack.wsUrl),
      new TestClient(secured.url.replace('http', 'ws') + '/ws'),
    ]
    await Promise.all(resumed.map((c) => c.opened))
    resumed[1]!.send({ type: 'auth', token: TOKEN })
    for (const [i, c] of resumed.entries())
      c.send({ type: 'subscribe', topics: ['*'], lastId: clients[i]!.events.at(-1)!.id })
    for (const c of resumed) {
      const catchup = await c.waitFor(() => c.message('catchup'), 10_000, 'catchup')
      expect(catchup).toEqual({ type: 'catchup', events: [], reason: 'epoch_changed' })
      const snapshot = await c.waitFor(() => c.message('snapshot'), 10_000, 'snapshot')
      const types = c.messages.map((m) => m.type)
      expect(types.indexOf('snapshot')).toBe(types.indexOf('catchup') + 1)
      expect((c.message('subscribed') as { epoch: string }).epoch).toBe(epoch)
      for (const e of snapshot.events as Envelope[]) expect(compare(e.id, floor)).toBeGreaterThan(0)
    }

    // paused at the target; resumed, the run has exactly the original's events after it
    const held = await simNow()
    expect(held).toBe(target)
    expect((await call('POST', '/api/simulation/resume')).status).toBe(200)
    await waitSim(snapAt + SPAN + 5 * MINUTE)
    const again = await eventsBetween(target, snapAt + SPAN)
    expect(again).toEqual(original.filter((l) => Date.parse(JSON.parse(l).timestamp) > target))
    // the resumed clients see only the new line, in order, nothing twice
    for (const c of resumed) {
      await c.waitFor(() => c.events.length > 50, 20_000, 'events on the new timeline')
      const ids = c.events.map((e) => e.id)
      expectIncreasing(ids)
      for (const id of ids) expect(compare(id, floor)).toBeGreaterThan(0)
      for (const e of c.events.filter((e) => e.channel !== 'simulation_control'))
        expect(Date.parse(e.timestamp)).toBeGreaterThan(target)
      await c.close()
    }
    // the SDK was told once and carries on on the new epoch
    const until = Date.now() + 20_000
    while ((resets.length === 0 || compare(sdkEvents.at(-1)!.id, floor) <= 0) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50))
    expect(resets.map((r) => r.reason)).toEqual(['epoch_changed'])
    expectIncreasing(sdkEvents.map((e) => e.id))
    expect(sdk.epoch).toBe(epoch)
    await sdk.close()
  }, 180_000)

  it('should list the timelines left with their commands, and go back to one by restoring its snapshot', async () => {
    const res = await call('GET', '/api/simulation/timelines')
    expect(res.status).toBe(200)
    expect(res.body.current).toBe('tl_3')
    const ids = res.body.timelines.map((t: { id: string }) => t.id)
    expect(ids).toEqual(['tl_3', 'tl_2', 'tl_1'])
    const [, tl2, tl1] = res.body.timelines
    expect(tl1.commands.map((c: { action: string }) => c.action)).toContain('act')
    expect(tl1.returnSnapshot).toMatch(/^snap_/)
    expect(tl2).toMatchObject({ parent: 'tl_1', reason: 'restore', restoredFrom: snapId })
    const back = await call('POST', `/api/simulation/restore/${tl1.returnSnapshot}`)
    expect(back.status).toBe(200)
    expect(back.body.currentSimulationTime).toBe(tl1.leftAt)
    expect(back.body.timeline).toMatchObject({ id: 'tl_4', parent: 'tl_3', reason: 'restore' })
    const list = await call('GET', '/api/simulation/snapshots')
    expect(list.body.snapshots.filter((s: { kind: string }) => s.kind === 'branch')).toHaveLength(3)
  }, 60_000)

  it('should do all of it from the SDK, over WebSocket (control) and over SSE (REST with the token)', async () => {
    const ws = createClient({ url: stack.wsUrl, topics: [], WebSocket })
    const snap = await ws.snapshot('from the SDK', 'over WebSocket')
    expect(snap).toMatchObject({ name: 'from the SDK', kind: 'manual', timeline: 'tl_4' })
    const list = await ws.snapshots()
    expect(list.snapshots.map((s) => s.id)).toContain(snap.id)
    const preview = await ws.travel(snap.simulatedTime, { dryRun: true })
    expect(preview.dryRun).toBe(true)
    expect(preview.state.currentSimulationTime).toBe(snap.simulatedTime)
    expect((await ws.timelines()).current).toBe('tl_4')
    expect(await ws.deleteSnapshot(snap.id)).toEqual({ deleted: snap.id })
    await expect(ws.restore(snap.id)).rejects.toMatchObject({ code: 'VS_GEN_UNKNOWN_SNAPSHOT' })
    await ws.close()

    const sse = createClient({
      url: `${secured.url}/sse`,
      transport: 'sse',
      topics: ['*'],
      token: TOKEN,
    })
    const viaRest = await sse.snapshot('over SSE')
    expect(viaRest.kind).toBe('manual')
    expect((await sse.snapshots()).snapshots.map((s) => s.id)).toContain(viaRest.id)
    expect((await sse.timelines()).current).toBe('tl_4')
    expect(await sse.deleteSnapshot(viaRest.id)).toEqual({ deleted: viaRest.id })
    await sse.close()
    const anonymous = createClient({ url: `${secured.url}/sse`, transport: 'sse', topics: ['*'] })
    await expect(anonymous.snapshot('no token')).rejects.toMatchObject({
      code: 'VS_GW_UNAUTHORIZED',
      status: 401,
    })
    await anonymous.close()
  }, 60_000)
})
