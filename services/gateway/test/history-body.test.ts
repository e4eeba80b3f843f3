/**
 * The history body cache on its own, with plans that count their builds: one
 * build for identical requests in flight, an open range joining a build of the
 * same query, at most `builds` at a time, the byte bound, and the helpers that
 * read `If-None-Match` and `Accept-Encoding`.
 */
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { HistoryPlan, HistoryRollUp } from '@verisim/bus'
import {
  OPEN_KEPT,
  acceptsGzip,
  createHistoryBodies,
  etagMatches,
  historyEtag,
} from '../src/history-body.js'

function plan(identity: string, open = false, counter = { loads: 0, active: 0, peak: 0 }) {
  const p: HistoryPlan = {
    identity,
    open,
    nowMs: 0,
    range: {} as HistoryPlan['range'],
    async load(): Promise<HistoryRollUp> {
      counter.loads++
      counter.active++
      counter.peak = Math.max(counter.peak, counter.active)
      await new Promise((r) => setTimeout(r, 20))
      counter.active--
      return {
        timeRange: { start: 'a' } as HistoryRollUp['timeRange'],
        streams: ['s1', 's2'],
        points: (name) =>
          Array.from({ length: 5000 }, (_, k) => ({
            timestamp: `${name}${k}`,
            value: k,
            normalized: null,
          })),
        events: [],
      }
    },
  }
  return { p, counter }
}

describe('history bodies', () => {
  it('should build identical requests in flight once and serve the same bytes from the cache', async () => {
    const bodies = createHistoryBodies({ maxBytes: 1 << 20, builds: 1 })
    const { p, counter } = plan('a|sealed')
    const got = await Promise.all([bodies.get(p), bodies.get(p), bodies.get(p)])
    expect(counter.loads).toBe(1)
    expect(got[1]).toBe(got[0])
    expect(await bodies.get(p)).toBe(got[0])
    expect(counter.loads).toBe(1)
    const json = JSON.parse(gunzipSync(got[0]!.gzip).toString())
    expect(Object.keys(json)).toEqual(['timeRange', 'streams', 'events'])
    expect(json.streams.s2).toHaveLength(5000)
    expect(got[0]!.bytes).toBe(gunzipSync(got[0]!.gzip).length)
    expect(got[0]!.etag).toBe(historyEtag('a|sealed'))
    // Plain JSON: decompressed once, shared by the requests for it.
    const plain = await Promise.all([bodies.plain(got[0]!), bodies.plain(got[0]!)])
    expect(plain[1]).toBe(plain[0])
    expect(plain[0]!.equals(gunzipSync(got[0]!.gzip))).toBe(true)
  })

  it('should let an open range join a build of the same query at an earlier now', async () => {
    const bodies = createHistoryBodies({ maxBytes: 1 << 20, builds: 1 })
    const counter = { loads: 0, active: 0, peak: 0 }
    const first = bodies.get(plan('q|1000', true, counter).p)
    const second = bodies.get(plan('q|1060', true, counter).p)
    expect(await second).toBe(await first)
    expect(counter.loads).toBe(1)
    // Later, with the build done, a new now builds again and replaces the old one.
    await bodies.get(plan('q|2000', true, counter).p)
    expect(counter.loads).toBe(2)
    expect(bodies.cachedBytes).toBe((await bodies.get(plan('q|2000', true, counter).p)).gzip.length)
  })

  it('should keep at most OPEN_KEPT open answers across queries (a range moving with the clock)', async () => {
    const bodies = createHistoryBodies({ maxBytes: 64 << 20, builds: 1 })
    const counter = { loads: 0, active: 0, peak: 0 }
    const sealed = await bodies.get(plan('s|sealed', false, counter).p)
    const open: number[] = []
    for (let i = 0; i < OPEN_KEPT + 5; i++) {
      open.push((await bodies.get(plan(`q${i}|${1000 + i}`, true, counter).p)).gzip.length)
    }
    const kept = open.slice(-OPEN_KEPT).reduce((a, b) => a + b, 0)
    expect(bodies.cachedBytes).toBe(sealed.gzip.length + kept)
    // the newest open ones are still served from the cache, the oldest were built again
    const loads = counter.loads
    await bodies.get(plan(`q${OPEN_KEPT + 4}|${1004 + OPEN_KEPT}`, true, counter).p)
    expect(counter.loads).toBe(loads)
    await bodies.get(plan('q0|1000', true, counter).p)
    expect(counter.loads).toBe(loads + 1)
    // a sealed answer is never dropped for open ones
    await bodies.get(plan('s|sealed', false, counter).p)
    expect(counter.loads).toBe(loads + 1)
  })

  it('should build at most `builds` different answers at a time and keep within the byte bound', async () => {
    const counter = { loads: 0, active: 0, peak: 0 }
    const bodies = createHistoryBodies({ maxBytes: 120_000, builds: 2 })
    const all = await Promise.all(
      Array.from({ length: 6 }, (_, i) => bodies.get(plan(`k${i}|sealed`, false, counter).p)),
    )
    expect(counter.loads).toBe(6)
    expect(counter.peak).toBe(2)
    expect(bodies.cachedBytes).toBeLessThanOrEqual(120_000)
    // ~52 kB each: the two most recent are kept, the older ones evicted
    expect(bodies.cachedBytes).toBe(all[4]!.gzip.length + all[5]!.gzip.length)
  })
})

describe('header helpers', () => {
  it('should compare ETags weakly and accept lists and *', () => {
    const tag = historyEtag('x')
    expect(etagMatches(undefined, tag)).toBe(false)
    expect(etagMatches(tag, tag)).toBe(true)
    expect(etagMatches(tag.slice(2), tag)).toBe(true)
    expect(etagMatches(`"nope", ${tag}`, tag)).toBe(true)
    expect(etagMatches('*', tag)).toBe(true)
    expect(etagMatches('"nope"', tag)).toBe(false)
  })

  it('should read gzip out of Accept-Encoding, q=0 refusing it', () => {
    expect(acceptsGzip(undefined)).toBe(false)
    expect(acceptsGzip('gzip, deflate, br')).toBe(true)
    expect(acceptsGzip('br;q=1.0, gzip;q=0.8')).toBe(true)
    expect(acceptsGzip('gzip;q=0')).toBe(false)
    expect(acceptsGzip('*')).toBe(true)
    expect(acceptsGzip('identity')).toBe(false)
    expect(acceptsGzip('br')).toBe(false)
  })
})
