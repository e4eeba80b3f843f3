/**
 * Resuming by `lastTimestamp`: the time is found in the channel streams by
 * binary search (`findIdAtOrBefore` of @verisim/bus), which must agree with a
 * linear scan of the merged streams on any stream whose simulation time is
 * monotone in id order, and answers at once however many events are stored.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  compareIds,
  createKeys,
  deletePrefix,
  envelopeTimestamp,
  findIdAtOrBefore,
  readRange,
  type WorldKeys,
} from '@verisim/bus'
import { connect, startHarness, until, type Harness } from './helpers.js'

let h: Harness

beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h?.close()
})

/** The reference: the last merged event with `id <= upTo` and time `<= iso`, by reading them all. */
async function linearScan(
  keys: WorldKeys,
  channels: readonly string[],
  iso: string,
  upTo: string,
): Promise<string | null> {
  let found: string | null = null
  let after: string | null = null
  for (;;) {
    const page = await readRange(h.redis, keys, channels, after, upTo, 500)
    for (const e of page.events) {
      if (envelopeTimestamp(e.json) > iso) return found
      found = e.id
    }
    if (!page.more || page.events.length === 0) return found
    after = page.events[page.events.length - 1]!.id
  }
}

const CHANNELS = ['a', 'b', 'c'] as const
const T0 = Date.UTC(2026, 10, 1)

/**
 * One step of a synthetic world: the id moves on by `gap` ms (0: same ms,
 * next seq; bursts of many in one ms happen), the simulation time by `dt` ms
 * (0: a tie), on one channel.
 */
const Step = fc.record({
  gap: fc.oneof(
    fc.constant(0),
    fc.constant(0),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 5_000_000 }),
  ),
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 90_000 })),
  channel: fc.constantFrom(...CHANNELS),
  seqJump: fc.oneof(fc.constant(1), fc.constant(1), fc.integer({ min: 2, max: 1_000_000 })),
})

describe('findIdAtOrBefore', () => {
  it('should return the id a linear scan finds, for random streams, times and bounds', async () => {
    const prefix = `${h.prefix}bs`
    let run = 0
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(Step, { minLength: 0, maxLength: 120 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: -2, max: 2 }), fc.nat()), {
            minLength: 1,
            maxLength: 12,
          }),
          async (steps, queries) => {
            const keys = createKeys(prefix, `w${run++}`)
            let ms = 1_780_000_000_000
            let seq = 0
            let t = T0
            const ids: string[] = []
            const times: number[] = []
            const p = h.redis.pipeline()
            for (const s of steps) {
              if (s.gap === 0 && ids.length > 0) seq += s.seqJump
              else {
                ms += Math.max(1, s.gap)
                seq = s.seqJump === 1 ? 0 : s.seqJump
              }
              t += s.dt
              const id = `${ms}-${seq}`
              const envelope = JSON.stringify({
                id,
                timestamp: new Date(t).toISOString(),
                data: {},
              })
              p.xadd(keys.channel(s.channel), id, 's', 'x', 'f', 'normal', 'e', envelope)
              ids.push(id)
              times.push(t)
            }
            await p.exec()
            for (const [pick, shift, boundPick] of queries) {
              // Times at, just around, before and after the stored ones; bounds at
              // stored ids, between them and past them.
              const base = times.length > 0 ? times[pick % times.length]! : T0
              const iso = new Date(base + shift * (pick % 3 === 0 ? 1 : 45_000)).toISOString()
              const upTo =
                ids.length === 0 || boundPick % 5 === 0
                  ? '9999999999999-0'
                  : boundPick % 5 === 1
                    ? `${Number(ids[boundPick % ids.length]!.split('-')[0]) + 1}-0`
                    : ids[boundPick % ids.length]!
              const expected = await linearScan(keys, CHANNELS, iso, upTo)
              const got = await findIdAtOrBefore(h.redis, keys, CHANNELS, iso, upTo)
              expect(got, `${iso} up to ${upTo}`).toBe(expected)
            }
            await h.redis.del(...CHANNELS.map((c) => keys.channel(c)))
          },
        ),
        { numRuns: 60, seed: 14 },
      )
    } finally {
      await deletePrefix(h.redis, prefix)
    }
  }, 60_000)

  it('should search 100 000 stored events in a few dozen probes', async () => {
    const keys = createKeys(`${h.prefix}big${randomBytes(2).toString('hex')}`, 'w')
    const p = h.redis.pipeline()
    for (let i = 0; i < 100_000; i++) {
      const id = `${1_780_000_000_000 + Math.floor(i / 7)}-${i % 7}`
      const ts = new Date(T0 + i * 1000).toISOString()
      p.xadd(keys.channel(CHANNELS[i % 3]!), id, 'e', `{"timestamp":"${ts}"}`)
    }
    await p.exec()
    try {
      const before = (await h.redis.info('commandstats')).match(/cmdstat_xrange:calls=(\d+)/)
      const target = new Date(T0 + 61_234 * 1000 + 500).toISOString()
      const got = await findIdAtOrBefore(h.redis, keys, CHANNELS, target, '+')
      expect(got).toBe(`${1_780_000_000_000 + Math.floor(61_234 / 7)}-${61_234 % 7}`)
      const after = (await h.redis.info('commandstats')).match(/cmdstat_xrange:calls=(\d+)/)
      expect(after).not.toBeNull()
      console.log(
        `binary search over 100 000 events: ${Number(after![1]) - Number(before?.[1] ?? 0)} XRANGE probes`,
      )
      // Other tests may share the Redis: a loose bound that a scan (≥ 100 pages) would break.
      expect(Number(after?.[1] ?? 0) - Number(before?.[1] ?? 0)).toBeLessThan(400)
    } finally {
      await deletePrefix(h.redis, keys.channel('x').split(':')[0]!)
    }
  })
})

describe('resume by lastTimestamp', () => {
  it('should answer ten concurrent far-future resumes within 100 ms each over 100 000 stored events', async () => {
    for (let i = 0; i < 10; i++) await h.produce(10_000)
    // Let the gateway release them, so the catch-up window covers all of them.
    const last = h.written.at(-1)!.id
    await until(() => compareIds(h.app.streams.frontier(), last) >= 0, 10_000, 'frontier')
    const clients = Array.from({ length: 10 }, () => connect(h.url))
    await Promise.all(clients.map((c) => c.opened))
    const took = await Promise.all(
      clients.map(async (c) => {
        const answered = new Promise<number>((resolve) =>
          c.ws.on('message', (d) => {
            const m = JSON.parse(d.toString()) as { type: string; complete?: boolean }
            if (m.type === 'catchup' && m.complete === true) resolve(performance.now())
          }),
        )
        const sent = performance.now()
        c.ws.send(
          JSON.stringify({
            type: 'subscribe',
            topics: ['*'],
            lastTimestamp: '2100-01-01T00:00:00Z',
          }),
        )
        return (await answered) - sent
      }),
    )
    console.log(`far-future resumes answered in ${took.map((t) => t.toFixed(1)).join(', ')} ms`)
    for (const c of clients) {
      const catchup = c.rx.messages.find((m) => m.type === 'catchup')!
      expect(catchup.events).toEqual([])
      expect(compareIds(catchup.lastId as string, last)).toBeGreaterThanOrEqual(0)
      c.ws.close()
    }
    for (const t of took) expect(t).toBeLessThanOrEqual(100)
  }, 60_000)
})
