/**
 * The streams plugin when its consumer groups disappear: taken for a dead
 * instance's (same streams: recreated at the frontier, clients undisturbed) or
 * lost with Redis' data (new epoch: clients closed with 4010 to resume).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { destroyGroup, groupName, listChannelKeys } from '@verisim/bus'
import { connect, startHarness, until, type Harness } from './helpers.js'

let h: Harness

beforeAll(async () => {
  h = await startHarness({ GATEWAY_INSTANCE_ID: 'streams-test' })
})
afterAll(async () => {
  await h?.close()
})

describe('streams plugin', () => {
  it('should keep the heartbeat key alive while reading', async () => {
    const ttl = await h.redis.ttl(h.keys.gatewayHeartbeat('streams-test'))
    expect(ttl).toBeGreaterThan(5)
    expect(ttl).toBeLessThanOrEqual(15)
  })

  it('should recreate destroyed groups at the frontier without a gap or a duplicate', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send('{"type":"subscribe","topics":["*"]}')
    await until(() => c.rx.messages.some((m) => m.type === 'subscribed'))
    const from = h.written.length
    const stop = h.pump(10, 10)
    await until(() => c.rx.events.length > 100, 5000, 'events')
    // What a cleanup job does to an instance it takes for dead.
    for (const key of await listChannelKeys(h.redis, h.keys))
      await destroyGroup(h.redis, key, groupName('streams-test'))
    const n = c.rx.events.length
    await until(() => c.rx.events.length > n + 200, 5000, 'events after the groups were recreated')
    await stop()
    await until(() => c.rx.events.length >= h.written.length - from, 5000, 'the rest')
    await new Promise((r) => setTimeout(r, 300))
    expect(c.rx.events.map((e) => e.id)).toEqual(h.written.slice(from).map((e) => e.id))
    expect(c.ws.readyState).toBe(c.ws.OPEN)
    c.ws.close()
  })

  it('should close clients with 4010 when the streams were replaced (epoch changed)', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send('{"type":"subscribe","topics":["*"]}')
    await until(() => c.rx.messages.some((m) => m.type === 'subscribed'))
    await h.produce(5)
    await until(() => c.rx.events.length >= 5, 3000, 'events')
    // Redis lost everything: streams, groups and epoch; a generator then starts a new epoch.
    for (const key of await listChannelKeys(h.redis, h.keys)) await h.redis.del(key)
    await h.redis.set(
      h.keys.epoch,
      JSON.stringify({ epoch: 'replaced', floorId: h.written.at(-1)!.id }),
    )
    await h.produce(5)
    const [code, reason] = await c.closed
    expect(code).toBe(4010)
    expect(reason).toContain('epoch changed')
    const metrics = await (await fetch(`${h.url}/metrics`)).text()
    expect(metrics).toMatch(/^verisim_gateway_streams_lost_total 1$/m)
    // Serving again: a new client gets the new epoch's events.
    const d = connect(h.url)
    await d.opened
    d.ws.send('{"type":"subscribe","topics":["*"]}')
    await until(() => d.rx.messages.some((m) => m.type === 'subscribed'))
    expect(d.rx.messages[0]).toMatchObject({ epoch: 'replaced' })
    const fresh = await h.produce(10)
    await until(() => d.rx.events.length >= 10, 5000, 'new epoch events')
    expect(d.rx.events.slice(-10).map((e) => e.id)).toEqual(fresh.map((e) => e.id))
    d.ws.close()
  })
})
