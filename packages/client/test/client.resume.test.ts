/**
 * Gap-free resume under churn: the fake gateway publishes while it drops the
 * client's socket at random (clean closes with each documented code, abrupt
 * terminates, cuts in the middle of a paged catch-up, overlapping catch-ups,
 * live batches overtaking catch-ups, a batch window that leaves the reported
 * frontier ahead of what was sent). The client must deliver exactly the
 * published sequence.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import { FakeGateway, sleep, until } from './helpers/fake-gateway.js'
import { closeAll, record } from './helpers/recorder.js'

let gw: FakeGateway

beforeEach(async () => {
  gw = await FakeGateway.start({ pageSize: 7 })
})
afterEach(async () => {
  await closeAll()
  await gw.close()
})

/** Small seeded PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

for (const [topics, seed] of [
  [['*'], 1],
  [['session.*', 'customer.tutor.search'], 2],
] as const) {
  it(`should deliver the published sequence for ${topics.join(',')} across 100 random drops, without gaps or duplicates`, async () => {
    const random = rng(seed)
    gw.publish(3)
    const r = record({ url: gw.url, topics: [...topics], reconnect: { initialMs: 1, maxMs: 8 } })
    await until(() => gw.conns.length > 0 && gw.last.subscribed, 'first subscribe')
    gw.windowed = true
    let drops = 0
    while (drops < 100) {
      gw.publish(1 + Math.floor(random() * 25))
      if (random() < 0.6) gw.flushAll()
      if (random() < 0.5) await sleep(Math.floor(random() * 3))
      const open = gw.openConns()
      if (open.length === 0 || random() < 0.4) continue
      drops++
      gw.overlap = random() < 0.3 ? 1 + Math.floor(random() * 5) : 0
      gw.liveBeforeCatchup = random() < 0.2
      const how = random()
      if (how < 0.3) gw.drop('terminate')
      else if (how < 0.55) gw.drop('close', [4008, 4002, 1001, 1009][Math.floor(random() * 4)])
      else if (how < 0.8) {
        gw.terminateAfterPages = Math.floor(random() * 3)
        gw.cutWithClose = random() < 0.5
        gw.drop('close', 4008)
      } else {
        gw.publish(20) // a burst right before the cut: frames in flight are lost
        gw.drop('terminate')
      }
      gw.publish(Math.floor(random() * 10)) // while the client is away
      await until(() => gw.openConns().length > 0 && gw.last.subscribed, 'reconnected', 5000)
    }
    gw.overlap = 0
    gw.liveBeforeCatchup = false
    gw.terminateAfterPages = null
    gw.windowed = false
    gw.publish(5)
    const expected = gw.log
      .slice(3)
      .filter((e) =>
        topics.some(
          (t) =>
            t === '*' ||
            t === e.stream ||
            (t.endsWith('.*') && e.stream.startsWith(t.slice(0, -1))),
        ),
      )
    await until(() => r.events.length >= expected.length, `all ${expected.length} events`, 10_000)
    await sleep(20)
    expect(r.ids()).toEqual(expected.map((e) => e.id))
    expect(new Set(r.ids()).size).toBe(r.events.length)
    expect(r.client.stats.reconnects).toBeGreaterThanOrEqual(100)
    expect(r.resets).toEqual([])
  }, 30_000)
}
