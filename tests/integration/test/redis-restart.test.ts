/**
 * Redis restarted empty under running services: a dedicated redis-server is
 * killed and started again on the same port with nothing persisted. Generator
 * and gateway recover by themselves (ready again, events flow again, the
 * cleanup job is scheduled again), and clients learn that events were lost
 * instead of seeing a silent gap: connected ones are closed with 4010, every
 * resume with an old id answers `catchup` `reason: "epoch_changed"`, and a
 * client of the SDK reconnects by itself and emits `reset` (`epoch_changed`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient, type ResetInfo, type StreamEvent } from '@verisim/client'
import {
  compare,
  expectIncreasing,
  startRedisServer,
  startStack,
  storedEvents,
  TestClient,
  waitReady,
  type RedisServer,
  type Stack,
} from './harness.js'

let server: RedisServer
let stack: Stack

beforeAll(async () => {
  server = await startRedisServer()
  stack = await startStack({
    redisUrl: server.url,
    env: { VERISIM_SPEED: '120', VERISIM_SEED: '5', VERISIM_CLEANUP_EVERY_MS: '500' },
  })
})
afterAll(async () => {
  await stack?.stop()
  await server?.stop()
})

const cleanupRuns = async () => {
  const text = await (await fetch(`${stack.generatorUrl}/metrics`)).text()
  return Number(
    /^verisim_generator_cleanup_runs_total\{outcome="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0,
  )
}

describe('Redis restarted empty', () => {
  it('should recover without restarting the services and tell resuming clients epoch_changed', async () => {
    // One client stays connected through the restart; one left before it.
    const live = new TestClient(stack.wsUrl)
    const away = new TestClient(stack.wsUrl)
    await Promise.all([live.opened, away.opened])
    // …and a client of the SDK, which should reconnect by itself and report the reset.
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
    live.send({ type: 'subscribe', topics: ['*'] })
    away.send({ type: 'subscribe', topics: ['*'] })
    const e1 = (await live.waitFor(() => live.message('subscribed'), 5000, 'subscribed'))
      .epoch as string
    await live.waitFor(() => live.events.length >= 100, 20_000, 'events before the restart')
    await away.waitFor(() => away.events.length >= 20, 20_000, 'events before leaving')
    await away.close()
    const awayLast = away.events.at(-1)!.id
    await new Promise((r) => setTimeout(r, 300))
    // What the live client had so far is exactly what was stored.
    const before = live.events.map((e) => e.id)
    expectIncreasing(before)
    const stored = await storedEvents(
      stack.redis,
      stack.prefix,
      'tutoring',
      before[0]!,
      before.at(-1)!,
    )
    expect(before.slice(1)).toEqual(stored.map((e) => e.id))
    expect(await cleanupRuns()).toBeGreaterThan(0)

    // Crash Redis; bring it back empty on the same port after a moment.
    await server.kill('SIGKILL')
    await new Promise((r) => setTimeout(r, 5000)) // long enough for every reconnect loop to back off
    const ready503 = await fetch(`${stack.gatewayUrl}/health/ready`)
    expect(ready503.status).toBe(503)
    await server.restart()
    expect(await stack.redis.dbsize().catch(() => 0)).toBeLessThan(50) // fresh: only what the services wrote since

    // Both services recover on their own.
    await waitReady(`${stack.generatorUrl}/health/ready`, 30_000)
    await waitReady(`${stack.gatewayUrl}/health/ready`, 30_000)
    expect(stack.generator.child.exitCode).toBeNull()
    expect(stack.gateway.child.exitCode).toBeNull()

    // The connected client is told: closed with 4010 rather than left with a silent gap.
    const [code, reason] = await live.closed
    expect(code).toBe(4010)
    expect(reason).toContain('epoch changed')
    const liveLast = live.events.at(-1)!.id

    // Resuming with an id from before the restart: epoch_changed, never a silent gap.
    for (const lastId of [liveLast, awayLast]) {
      const c = new TestClient(stack.wsUrl)
      await c.opened
      c.send({ type: 'subscribe', topics: ['*'], lastId })
      const catchup = await c.waitFor(() => c.message('catchup'), 10_000, 'catchup')
      expect(catchup).toEqual({ type: 'catchup', events: [], reason: 'epoch_changed' })
      const subscribed = c.message('subscribed')!
      expect(typeof subscribed.epoch).toBe('string')
      expect(subscribed.epoch).not.toBe(e1)
      // Live events flow again after it, newer than anything before the restart.
      await c.waitFor(() => c.events.length >= 50, 20_000, 'events after the restart')
      expect(compare(c.events[0]!.id, liveLast)).toBeGreaterThan(0)
      await c.close()
    }

    // The SDK client was told (reset, epoch_changed) and carries on with the new epoch, in order.
    const deadline0 = Date.now() + 20_000
    while (
      (resets.length === 0 || compare(sdkEvents.at(-1)!.id, liveLast) <= 0) &&
      Date.now() < deadline0
    ) {
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(resets.map((r) => r.reason)).toEqual(['epoch_changed'])
    expectIncreasing(sdkEvents.map((e) => e.id))
    expect(sdk.epoch).not.toBe(e1)
    await sdk.close()

    // History is stored again (the baseline) without a restart of the services.
    const deadline1 = Date.now() + 20_000
    let history = 0
    while (history !== 200 && Date.now() < deadline1) {
      history = (await fetch(`${stack.gatewayUrl}/api/simulation/history?interval=12h`)).status
      if (history !== 200) await new Promise((r) => setTimeout(r, 200))
    }
    expect(history).toBe(200)

    // A fresh subscriber gets a gap-free stream of the new epoch, equal to what is stored.
    const fresh = new TestClient(stack.wsUrl)
    await fresh.opened
    fresh.send({ type: 'subscribe', topics: ['*'] })
    await fresh.waitFor(() => fresh.events.length >= 100, 20_000, 'fresh events')
    await fresh.close()
    const ids = fresh.events.map((e) => e.id)
    expectIncreasing(ids)
    const after = await storedEvents(stack.redis, stack.prefix, 'tutoring', ids[0]!, ids.at(-1)!)
    expect(ids.slice(1)).toEqual(after.map((e) => e.id))

    // The cleanup job's scheduler was lost with the data and is running again.
    const runs = await cleanupRuns()
    const deadline = Date.now() + 10_000
    while ((await cleanupRuns()) < runs + 2) {
      if (Date.now() > deadline) throw new Error('cleanup job did not run again after the restart')
      await new Promise((r) => setTimeout(r, 100))
    }
  }, 120_000)
})
