/**
 * Two gateway processes on one world: both deliver every event; one is killed
 * with SIGKILL; once its heartbeat has expired the generator's cleanup job
 * removes its consumer groups within one period; the other keeps serving
 * without a gap.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKeys, groupName, listChannelKeys, listGroups } from '@verisim/bus'
import {
  compare,
  expectIncreasing,
  startStack,
  storedEvents,
  TestClient,
  type Envelope,
  type Stack,
} from './harness.js'

const CLEANUP_EVERY_MS = 1000
const A = `gw-a-${randomBytes(3).toString('hex')}`
const B = `gw-b-${randomBytes(3).toString('hex')}`

let stack: Stack

beforeAll(async () => {
  stack = await startStack({
    env: {
      VERISIM_SPEED: '120',
      VERISIM_SEED: '11',
      VERISIM_CLEANUP_EVERY_MS: String(CLEANUP_EVERY_MS),
    },
    gatewayEnv: { GATEWAY_INSTANCE_ID: A },
  })
})
afterAll(async () => {
  await stack?.stop()
})

/** The received events equal the stored ones (XRANGE read-back) over the window they span. */
async function expectExactly(received: Envelope[]) {
  const ids = received.map((e) => e.id)
  expectIncreasing(ids)
  const stored = await storedEvents(stack.redis, stack.prefix, 'tutoring', ids[0]!, ids.at(-1)!)
  expect(ids.slice(1)).toEqual(stored.map((e) => e.id))
}

describe('several gateways', () => {
  it('should deliver every event from both, and keep serving from one after the other is killed and cleaned up', async () => {
    const keys = createKeys(stack.prefix, 'tutoring')
    const b = await stack.startGateway({ GATEWAY_INSTANCE_ID: B })
    const ca = new TestClient(stack.wsUrl)
    const cb = new TestClient(b.url.replace('http', 'ws') + '/ws')
    await Promise.all([ca.opened, cb.opened])
    ca.send({ type: 'subscribe', topics: ['*'] })
    cb.send({ type: 'subscribe', topics: ['*'] })
    await ca.waitFor(() => ca.events.length >= 200, 20_000, '200 events via A')
    await cb.waitFor(() => cb.events.length >= 200, 20_000, '200 events via B')

    // Both deliver every event: over the window both were connected, exactly what was stored.
    await expectExactly(ca.events)
    await expectExactly(cb.events)
    const lo = [ca.events[0]!.id, cb.events[0]!.id].sort(compare)[1]!
    const hi = [ca.events.at(-1)!.id, cb.events.at(-1)!.id].sort(compare)[0]!
    const between = (list: Envelope[]) =>
      list.filter((e) => compare(e.id, lo) >= 0 && compare(e.id, hi) <= 0).map((e) => e.id)
    expect(between(ca.events).length).toBeGreaterThan(50)
    expect(between(ca.events)).toEqual(between(cb.events))

    const groupsOf = async (instance: string) =>
      (await listGroups(stack.redis, await listChannelKeys(stack.redis, keys))).filter(
        (g) => g.name === groupName(instance),
      )
    const channels = (await listChannelKeys(stack.redis, keys)).length
    expect((await groupsOf(A)).length).toBe(channels)
    expect((await groupsOf(B)).length).toBe(channels)

    // Kill B; its clients see the connection drop.
    const killedAt = Date.now()
    await b.proc.stop('SIGKILL')
    await cb.waitFor(() => cb.ws.readyState === cb.ws.CLOSED, 5000, 'B client closed')

    // The heartbeat expires (TTL 15 s), then the next cleanup run removes B's groups.
    const deadline = killedAt + 30_000
    while ((await stack.redis.exists(keys.gatewayHeartbeat(B))) > 0) {
      if (Date.now() > deadline) throw new Error('heartbeat of the killed gateway did not expire')
      await new Promise((r) => setTimeout(r, 50))
    }
    const expiredAt = Date.now()
    expect(expiredAt - killedAt).toBeLessThanOrEqual(15_500)
    while ((await groupsOf(B)).length > 0) {
      if (Date.now() > deadline) throw new Error('zombie groups were not removed')
      await new Promise((r) => setTimeout(r, 50))
    }
    const removedAfter = Date.now() - expiredAt
    console.info(
      `gateway B killed; heartbeat gone after ${expiredAt - killedAt} ms; groups removed ${removedAfter} ms later (period ${CLEANUP_EVERY_MS} ms)`,
    )
    expect(removedAfter).toBeLessThanOrEqual(CLEANUP_EVERY_MS + 500)
    expect((await groupsOf(A)).length).toBe(channels)
    expect((await fetch(`${stack.gatewayUrl}/health/ready`)).status).toBe(200)

    // A kept serving all along, without a gap.
    const n = ca.events.length
    await ca.waitFor(() => ca.events.length >= n + 100, 20_000, 'more events via A')
    await expectExactly(ca.events)
    expect(ca.ws.readyState).toBe(ca.ws.OPEN)

    const metrics = await (await fetch(`${stack.generatorUrl}/metrics`)).text()
    expect(metrics).toMatch(/^verisim_generator_cleanup_runs_total\{outcome="ok"\} [1-9]\d*$/m)
    expect(metrics).toMatch(
      new RegExp(`^verisim_generator_cleanup_zombie_groups_total ${channels}$`, 'm'),
    )
    await ca.close()
  }, 90_000)
})
