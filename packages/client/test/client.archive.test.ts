import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeGateway, makeEvent, until } from './helpers/fake-gateway.js'
import { closeAll, record } from './helpers/recorder.js'

let gw: FakeGateway
beforeEach(async () => {
  gw = await FakeGateway.start()
})
afterEach(async () => {
  await closeAll()
  await gw.close()
})

/** A fetch that records each call and answers `answer(url)`. */
function fakeFetch(answer: (url: string) => [number, unknown]) {
  const calls: { url: string; method: string; headers: Record<string, string>; body?: string }[] =
    []
  const fetch = async (url: string, init: RequestInit) => {
    calls.push({
      url,
      method: init.method ?? 'GET',
      headers: init.headers as Record<string, string>,
      body: init.body as string | undefined,
    })
    const [status, body] = answer(url)
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    })
  }
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls }
}

describe('client archive calls', () => {
  it('should build the archive queries and send the token and an idempotency key where it mutates', async () => {
    const f = fakeFetch(() => [200, { ok: true }])
    const { client } = record({ url: gw.url, token: 't0k', fetch: f.fetch })
    await client.journey('s 1/2', { types: ['session.started', 'session.completed'], limit: 50 })
    await client.archiveEvents({ stream: 'session.*', start: new Date(Date.UTC(2026, 0, 1)) })
    await client.aggregate({ time_range: '7d', group_by: 'stream' })
    await client.replay({ start: '2026-01-01T00:00:00Z', end: '2026-01-01T01:00:00Z', speed: 60 })
    await client.cancelReplay('abc')
    const paths = f.calls.map(
      (c) => `${c.method} ${new URL(c.url).pathname}${new URL(c.url).search}`,
    )
    expect(paths).toEqual([
      'GET /api/journeys/s%201%2F2?types=session.started%2Csession.completed&limit=50',
      'GET /api/events?stream=session.*&start=2026-01-01T00%3A00%3A00.000Z',
      'GET /api/metrics/aggregate?time_range=7d&group_by=stream',
      'POST /api/streams/replay',
      'DELETE /api/streams/replay/abc',
    ])
    expect(f.calls[3]!.headers).toMatchObject({ authorization: 'Bearer t0k' })
    expect(f.calls[3]!.headers['idempotency-key']).toBeTruthy()
    expect(JSON.parse(f.calls[3]!.body!)).toEqual({
      start: '2026-01-01T00:00:00Z',
      end: '2026-01-01T01:00:00Z',
      speed: 60,
    })
  })

  it("should reject with the gateway's code when the archive is off", async () => {
    const f = fakeFetch(() => [
      503,
      {
        error: {
          code: 'VS_GW_ARCHIVE_UNAVAILABLE',
          message: 'the archive is off: DATABASE_URL is not set',
        },
      },
    ])
    const { client } = record({ url: gw.url, fetch: f.fetch })
    await expect(client.journey('s_1')).rejects.toMatchObject({
      code: 'VS_GW_ARCHIVE_UNAVAILABLE',
      status: 503,
    })
  })

  it('should emit replay frames apart from the live sequence and its lastId', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.openConns().length === 1 && r.client.connectionState === 'open', 'open')
    const got: { topic: string; ids: string[] }[] = []
    r.client.on('replay', ({ topic, events }) => got.push({ topic, ids: events.map((e) => e.id) }))
    const before = r.client.lastId
    const old = { ...makeEvent(1), replay: true }
    gw.openConns()[0]!.send({ type: 'replay', topic: 'replay:abc', events: [old] })
    await until(() => got.length === 1, 'the replay emission')
    expect(got).toEqual([{ topic: 'replay:abc', ids: [old.id] }])
    expect(r.client.lastId).toBe(before)
  })
})
