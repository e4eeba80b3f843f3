/**
 * Slow consumers against a gateway process of its own (so its RSS is its own):
 * clients that stop reading are closed with 4008 once their unsent bytes pass
 * VERISIM_MAX_CLIENT_BUFFER, and can resume without loss; the gateway's memory
 * stays bounded while tens of megabytes stream past them; clients that read
 * get every event.
 */
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import {
  connect,
  spawnGateway,
  startHarness,
  until,
  type GatewayProcess,
  type Harness,
} from './helpers.js'

const BOUND = 1024 * 1024 // VERISIM_MAX_CLIENT_BUFFER
const PAD = 1000 // bytes of filler per event: ~1.2 KB envelopes
const TOTAL_EVENTS = 30_000 // ~36 MB through every subscription
const SLOW = 4
/**
 * Stated limits. Unsent bytes per client (read from the gateway's own gauge):
 * at most the bound plus the one frame written while under it (frames here are
 * under 1.5 MB). Gateway RSS: under 256 MiB at every sample (idle it is ~110 MiB;
 * without the bound a slow client would pin everything written after it stopped
 * reading, ~36 MB here, and it grows without limit with a longer run).
 */
const BUFFERED_LIMIT = BOUND + 2 * 1024 * 1024
const RSS_LIMIT = 256 * 1024 * 1024

let h: Harness
let gw: GatewayProcess

beforeAll(async () => {
  h = await startHarness({}, { inProcess: false })
  gw = await spawnGateway(h, { VERISIM_MAX_CLIENT_BUFFER: String(BOUND) })
}, 60_000)
afterAll(async () => {
  await gw?.stop()
  await h?.close()
})

/** The TCP socket under a `ws` client: pausing it stops reading, as a stalled browser tab would. */
const tcp = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket

async function subscribed(
  c: ReturnType<typeof connect>,
  msg: object = { type: 'subscribe', topics: ['*'] },
) {
  await c.opened
  c.ws.send(JSON.stringify(msg))
  await until(() => c.rx.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed')
}

describe('slow clients', () => {
  it('should close clients that stop reading with 4008 at the bound, keep memory bounded and serve the others fully', async () => {
    const readers = [connect(gw.url), connect(gw.url)]
    for (const c of readers) await subscribed(c)
    const slow = Array.from({ length: SLOW }, () => connect(gw.url))
    for (const c of slow) {
      await subscribed(c)
      tcp(c.ws).pause()
    }
    const codes: number[] = []
    for (const c of slow) void c.closed.then(([code]) => codes.push(code))

    const idle = gw.rss()
    let peak = idle
    let maxBuffered = 0
    const sampler = setInterval(() => {
      peak = Math.max(peak, gw.rss())
      void fetch(`${gw.url}/metrics`)
        .then((r) => r.text())
        .then((t) => {
          const m = /^verisim_gateway_client_buffered_bytes\{stat="max"\} (\d+)/m.exec(t)
          if (m) maxBuffered = Math.max(maxBuffered, Number(m[1]))
        })
        .catch(() => undefined)
    }, 50)

    // ~5 MB/s for ~7 s.
    for (let written = 0; written < TOTAL_EVENTS; written += 500) {
      await h.produce(500, 'normal', PAD)
      await new Promise((r) => setTimeout(r, 100))
    }
    await until(
      () => readers.every((c) => c.rx.events.length >= TOTAL_EVENTS),
      30_000,
      'readers to get everything',
    )
    clearInterval(sampler)
    peak = Math.max(peak, gw.rss())

    const metrics = await (await fetch(`${gw.url}/metrics`)).text()
    expect(metrics).toMatch(new RegExp(`^verisim_gateway_slow_clients_closed_total ${SLOW}$`, 'm'))

    // Readers: everything, in order, once.
    const all = h.written.map((e) => e.id)
    for (const c of readers) expect(c.rx.events.map((e) => e.id)).toEqual(all)
    expect(readers.every((c) => c.ws.readyState === c.ws.OPEN)).toBe(true)

    // Memory stayed bounded.
    console.info(
      `gateway RSS idle ${(idle / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB (limit ${RSS_LIMIT / 2 ** 20}); ` +
        `largest unsent queue ${(maxBuffered / 2 ** 20).toFixed(2)} MiB (limit ${(BUFFERED_LIMIT / 2 ** 20).toFixed(0)})`,
    )
    expect(maxBuffered).toBeGreaterThan(BOUND / 2) // the slow clients did queue up…
    expect(maxBuffered).toBeLessThanOrEqual(BUFFERED_LIMIT) // …to the bound, not beyond
    expect(peak).toBeLessThan(RSS_LIMIT)

    // The slow clients read again: what was queued, then the 4008 close.
    for (const c of slow) tcp(c.ws).resume()
    await until(() => codes.length === SLOW, 20_000, 'slow clients closed')
    expect(codes).toEqual(Array(SLOW).fill(4008))
    for (const c of slow) {
      const got = c.rx.events.map((e) => e.id)
      expect(got.length).toBeGreaterThan(0)
      expect(got.length).toBeLessThan(TOTAL_EVENTS / 2) // closed early, not after everything
      expect(got).toEqual(all.slice(0, got.length)) // a gap-free prefix: a valid resume point
    }

    // …and resume without loss.
    const last = slow[0]!.rx.events.at(-1)!.id
    const again = connect(gw.url)
    await subscribed(again, { type: 'subscribe', topics: ['*'], lastId: last })
    await until(
      () => again.rx.messages.some((m) => m.type === 'catchup' && m.complete === true),
      20_000,
      'catch-up',
    )
    expect([...slow[0]!.rx.events, ...again.rx.events].map((e) => e.id)).toEqual(all)
    again.ws.close()
    for (const c of readers) c.ws.close()
  }, 120_000)

  it('should close a client that floods requests without reading the replies', async () => {
    const c = connect(gw.url)
    await c.opened
    tcp(c.ws).pause()
    const idle = gw.rss()
    let peak = idle
    const sampler = setInterval(() => (peak = Math.max(peak, gw.rss())), 50)
    // Each pong echoes its ~1 KB `ts`: 30,000 of them are ~30 MB of replies nobody reads.
    const ts = 'p'.repeat(1000)
    for (let i = 0; i < 30_000 && c.ws.readyState === c.ws.OPEN; i++) {
      c.ws.send(`{"type":"ping","ts":"${ts}"}`)
      if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 20))
    }
    tcp(c.ws).resume()
    const [code] = await c.closed
    clearInterval(sampler)
    expect(code).toBe(4008)
    expect(peak).toBeLessThan(RSS_LIMIT)
    expect((await fetch(`${gw.url}/health/ready`)).status).toBe(200)
  }, 60_000)
})
