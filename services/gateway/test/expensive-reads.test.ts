/**
 * Expensive reads against live delivery (issue 14): twenty concurrent 30-day
 * history reads must not starve a WebSocket client, the health check or the
 * gateway's memory (a gateway process of its own, so its RSS is its own); and
 * the per-client limits around every such read: 429 `VS_GW_RATE_LIMITED` with
 * `Retry-After`, ETags with 304, compression.
 */
import http from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { historyKeys, type HistoryDoc, type HistoryMeta } from '@verisim/bus'
import {
  connect,
  spawnGateway,
  startHarness,
  until,
  type GatewayProcess,
  type Harness,
} from './helpers.js'

const B = 900_000
const DAY = 86_400_000
const F = Date.UTC(2026, 9, 1)
/** The run starts after the 30 baseline days; now is two hours later. */
const RUN = F + 30 * DAY + 10 * 60_000
const NOW = RUN + 2 * 3_600_000
const STREAMS = Array.from({ length: 50 }, (_, i) => `domain${i % 6}.stream${i}`)

/** A deterministic pseudo-random sequence (values that compress like real ones, not like zeros). */
function lcg(seed: number) {
  let x = seed
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648
    return x / 2_147_483_648
  }
}

const baseline = (name: string, measure: string, mean: number) => ({
  name,
  measure,
  mean,
  median: mean,
  stdDev: mean / 5 + 1,
  min: 0,
  max: 2 * mean,
  percentiles: { p25: mean, p50: mean, p75: mean, p90: mean, p95: mean },
  patterns: { weekdayAvg: mean, weekendAvg: mean, trend: 'flat', seasonality: 'none' },
})

/** What the generator stores for a 30-day baseline of 50 streams, plus live buckets and the state. */
async function writeHistory(h: Harness, nowMs = NOW): Promise<void> {
  const hk = historyKeys(h.keys)
  const n = 30 * 96
  const rnd = lcg(7)
  const measures = STREAMS.map((_, i) => (i % 4 === 3 ? 'mean' : 'count'))
  const meta: HistoryMeta = {
    world: 'tutoring',
    seed: 42,
    runStartedAt: RUN,
    from: F,
    bucketMs: B,
    streams: STREAMS.map((name, i) => ({ name, measure: measures[i] as 'count' | 'mean' })),
    current: 0,
    mode: 'baseline',
    versions: [
      {
        version: 0,
        createdAt: '2026-10-31T00:00:00.000Z',
        simTime: new Date(RUN).toISOString(),
        description: 'baseline',
        window: null,
        modifications: [],
      },
    ],
    job: null,
  }
  const doc: HistoryDoc = {
    version: 0,
    from: F,
    bucketMs: B,
    n,
    streams: Object.fromEntries(
      STREAMS.map((name, i) => [
        name,
        {
          count: Array.from({ length: n }, () => Math.floor(rnd() * 400)),
          mean: Array.from({ length: n }, () =>
            measures[i] === 'mean' ? Math.round(rnd() * 50_000) / 100 : null,
          ),
        },
      ]),
    ),
  }
  const intervals = Object.fromEntries(
    ['15m', '1h', '12h'].map((iv, k) => [
      iv,
      Object.fromEntries(
        STREAMS.map((name, i) => [name, baseline(name, measures[i]!, 200 * [1, 4, 48][k]!)]),
      ),
    ]),
  )
  await h.redis.set(hk.meta, JSON.stringify(meta))
  await h.redis.set(hk.doc(0), JSON.stringify(doc))
  await h.redis.set(
    hk.stats,
    JSON.stringify({ calculatedFrom: meta.versions[0]!.createdAt, version: 0, intervals }),
  )
  await h.redis.set(hk.events, '[]')
  for (let b = Math.floor(RUN / B) * B; b < nowMs; b += B) {
    await h.redis.hset(
      hk.live(b),
      Object.fromEntries(STREAMS.flatMap((s) => [[s, 100 + Math.floor(rnd() * 100)]])),
    )
  }
  await setNow(h, nowMs)
}

const setNow = (h: Harness, ms: number) =>
  h.redis.set(h.keys.state, JSON.stringify({ currentSimulationTime: new Date(ms).toISOString() }))

interface Download {
  status: number
  headers: http.IncomingHttpHeaders
  bytes: number
  body: Buffer
}

/** A GET that keeps the bytes as sent (no automatic decompression); `keep` keeps the body. */
function download(url: string, headers: Record<string, string> = {}, keep = true) {
  return new Promise<Download>((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const parts: Buffer[] = []
        let bytes = 0
        res.on('data', (c: Buffer) => {
          bytes += c.length
          if (keep) parts.push(c)
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            bytes,
            body: Buffer.concat(parts),
          }),
        )
        res.on('error', reject)
      })
      .on('error', reject)
  })
}

/**
 * The twenty readers, on a thread of their own: receiving 100 MB must not
 * delay this thread, which measures the WebSocket latency and /health.
 */
const READERS = `
const http = require('node:http')
const { parentPort, workerData } = require('node:worker_threads')
const get = (i) => new Promise((resolve, reject) => {
  const headers = i % 2 === 0 ? { 'accept-encoding': 'gzip' } : {}
  http.get(workerData.url, { headers }, (res) => {
    const parts = []
    let bytes = 0
    res.on('data', (c) => { bytes += c.length; if (i < 2) parts.push(c) })
    res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, body: Buffer.concat(parts) }))
    res.on('error', reject)
  }).on('error', reject)
})
Promise.all(Array.from({ length: workerData.n }, (_, i) => get(i))).then(
  (reads) => parentPort.postMessage(reads),
  (err) => parentPort.postMessage({ error: String(err) }),
)
`

function readInWorker(url: string, n: number): Promise<Download[]> {
  const w = new Worker(READERS, { eval: true, workerData: { url, n } })
  return new Promise((resolve, reject) => {
    w.once('message', (m: Download[] | { error: string }) => {
      void w.terminate()
      if ('error' in m) reject(new Error(m.error))
      else resolve(m.map((r) => ({ ...r, body: Buffer.from(r.body) })))
    })
    w.once('error', reject)
  })
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}

describe('twenty concurrent 30-day history reads', () => {
  let h: Harness
  let gw: GatewayProcess

  beforeAll(async () => {
    h = await startHarness({}, { inProcess: false })
    await writeHistory(h)
    // The limit is off here: what is measured is that the reads themselves cannot starve anyone.
    gw = await spawnGateway(h, { VERISIM_RATE_LIMIT_MAX: '0' })
  }, 60_000)
  afterAll(async () => {
    await gw?.stop()
    await h?.close()
  })

  // a timing bound on 2 shared cores: one noisy run gets a second measurement
  it(
    'should keep live WebSocket p99 ≤ 250 ms, RSS ≤ 300 MB and /health within 100 ms',
    { timeout: 60_000, retry: 1 },
    async () => {
      const c = connect(gw.url)
      await c.opened
      const latencies: number[] = []
      let measuring = false
      c.ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { type: string; events?: { timestamp: string }[] }
        if (!measuring || m.type !== 'batch') return
        const at = Date.now()
        for (const e of m.events!) latencies.push(at - Date.parse(e.timestamp))
      })
      c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'], snapshot: 0 }))
      await until(() => c.rx.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed')

      // Live load: 20 events every 20 ms (~1000/s); the simulation clock moves
      // 1 simulated minute every 100 ms, so the history's live end keeps changing.
      const stopPump = h.pump(20, 20)
      let simNow = NOW
      const clock = setInterval(() => {
        simNow += 60_000
        void setNow(h, simNow)
      }, 100)
      const health: number[] = []
      let rss = gw.rss()
      const idleRss = rss
      let sampling = true
      const sampler = (async () => {
        while (sampling) {
          const t0 = performance.now()
          const r = await download(`${gw.url}/health/live`)
          expect(r.status).toBe(200)
          health.push(performance.now() - t0)
          rss = Math.max(rss, gw.rss())
          await new Promise((r) => setTimeout(r, 50))
        }
      })()
      try {
        await new Promise((r) => setTimeout(r, 1000))
        await download(`${gw.url}/metrics`) // resets the gateway's event-loop delay histogram
        const ownLag = monitorEventLoopDelay({ resolution: 10 })
        ownLag.enable()
        measuring = true
        const start = new Date(NOW - 30 * DAY).toISOString()
        const url = `${gw.url}/api/simulation/history?start=${start}&interval=15m`
        const t0 = performance.now()
        // Half accept gzip (as browsers do), half take the plain 10 MB (as curl does).
        const reads = await readInWorker(url, 20)
        const readsMs = performance.now() - t0
        await new Promise((r) => setTimeout(r, 1000))
        measuring = false
        ownLag.disable()
        const metrics = (await download(`${gw.url}/metrics`)).body.toString()
        const gwLag = Number(/^\S*eventloop_lag_max_seconds (\S+)$/m.exec(metrics)?.[1]) * 1000

        const p99 = quantile(latencies, 0.99)
        const line =
          `20 reads in ${readsMs.toFixed(0)} ms (plain ${(reads[1]!.bytes / 1e6).toFixed(1)} MB, gzip ${(reads[0]!.bytes / 1e6).toFixed(2)} MB); ` +
          `live events ${latencies.length}, p50 ${quantile(latencies, 0.5)} ms, p99 ${p99} ms, max ${Math.max(...latencies)} ms; ` +
          `health max ${Math.max(...health).toFixed(1)} ms over ${health.length}; ` +
          `event-loop delay max: gateway ${gwLag.toFixed(0)} ms, this test ${(ownLag.max / 1e6).toFixed(0)} ms; RSS idle ${(idleRss / 2 ** 20).toFixed(0)} MiB, peak ${(rss / 2 ** 20).toFixed(0)} MiB`
        console.log(line)

        for (const r of reads) expect(r.status).toBe(200)
        const plain = reads.filter((r) => r.headers['content-encoding'] === undefined)
        const zipped = reads.filter((r) => r.headers['content-encoding'] === 'gzip')
        expect(plain).toHaveLength(10)
        expect(zipped).toHaveLength(10)
        const body = JSON.parse(gunzipSync(reads[0]!.body).toString()) as {
          streams: Record<string, unknown[]>
        }
        expect(Object.keys(body.streams)).toHaveLength(50)
        expect(body.streams[STREAMS[0]!]!.length).toBeGreaterThanOrEqual(30 * 96)
        const plainBody = JSON.parse(reads[1]!.body.toString()) as typeof body
        expect(Object.keys(plainBody.streams)).toEqual(Object.keys(body.streams))
        expect(latencies.length).toBeGreaterThan(500)
        expect(p99, line).toBeLessThanOrEqual(250)
        expect(rss, line).toBeLessThanOrEqual(300 * 1024 * 1024)
        expect(Math.max(...health), line).toBeLessThanOrEqual(100)
      } finally {
        sampling = false
        await sampler
        clearInterval(clock)
        await stopPump()
        c.ws.close()
      }
    },
  )
})

describe('limits on expensive reads', () => {
  const TOKEN = 'expensive-reads-token'
  let h: Harness

  beforeAll(async () => {
    h = await startHarness({
      VERISIM_RATE_LIMIT_MAX: '3',
      VERISIM_RATE_LIMIT_WINDOW_MS: '60000',
      ADMIN_TOKEN: TOKEN,
    })
    await writeHistory(h)
    await h.produce(300, 'normal', 100)
  }, 60_000)
  afterAll(async () => {
    await h?.close()
  })

  const start = new Date(F).toISOString()
  const end = new Date(F + 7 * DAY).toISOString()
  const path = `/api/simulation/history?start=${start}&end=${end}&interval=1h`

  it('should compress, answer a matching ETag with 304 and then refuse with 429 and Retry-After', async () => {
    const zipped = await download(`${h.url}${path}`, { 'accept-encoding': 'gzip, deflate, br' })
    expect(zipped.status).toBe(200)
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers.vary).toMatch(/accept-encoding/i)
    const etag = zipped.headers.etag!
    expect(etag).toMatch(/^W\/"h[\w-]+"$/)
    const json = gunzipSync(zipped.body)
    expect(zipped.bytes).toBeLessThan(json.length / 2)
    expect(Object.keys(JSON.parse(json.toString()).streams)).toHaveLength(50)

    const same = await download(`${h.url}${path}`, { 'if-none-match': etag })
    expect(same.status).toBe(304)
    expect(same.bytes).toBe(0)
    expect(same.headers.etag).toBe(etag)

    const plain = await download(`${h.url}${path}`)
    expect(plain.status).toBe(200)
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.equals(json)).toBe(true)

    const refused = await download(`${h.url}${path}`, { 'accept-encoding': 'gzip' })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    expect(refused.headers['content-encoding']).toBeUndefined()
    const error = JSON.parse(refused.body.toString()) as {
      error: { code: string; message: string }
    }
    expect(Object.keys(error)).toEqual(['error'])
    expect(error.error.code).toBe('VS_GW_RATE_LIMITED')
    expect(error.error.message).toMatch(/at most 3 per 60 s per client; retry in/)

    const metrics = (await download(`${h.url}/metrics`)).body.toString()
    expect(metrics).toMatch(
      /verisim_gateway_rate_limited_total\{route="\/api\/simulation\/history"\} 1/,
    )
    expect(metrics).toMatch(/verisim_gateway_history_answers_total\{source="built"\} 1/)
    expect(metrics).toMatch(/verisim_gateway_history_answers_total\{source="not_modified"\} 1/)
    expect(metrics).toMatch(/verisim_gateway_history_answers_total\{source="cache"\} 1/)
    expect(metrics).toMatch(/verisim_gateway_history_build_seconds_count 1/)
  })

  it('should not limit the admin token and give a new ETag when the served version changes', async () => {
    // The history budget of 3 is spent (previous case); the admin token is not limited.
    const auth = { authorization: `Bearer ${TOKEN}` }
    const a = await download(`${h.url}${path}`, auth)
    expect(a.status).toBe(200)
    const etag = a.headers.etag!
    expect(
      (await download(`${h.url}${path}`, { ...auth, 'if-none-match': `"x", ${etag}` })).status,
    ).toBe(304)
    const hk = historyKeys(h.keys)
    const meta = JSON.parse((await h.redis.get(hk.meta))!) as HistoryMeta
    meta.versions[0]!.createdAt = '2026-10-31T01:00:00.000Z'
    await h.redis.set(hk.meta, JSON.stringify(meta))
    const b = await download(`${h.url}${path}`, { ...auth, 'if-none-match': etag })
    expect(b.status).toBe(200)
    expect(b.headers.etag).not.toBe(etag)
  })

  it('should compress other expensive reads and limit each per client', async () => {
    const events = await download(`${h.url}/api/simulation/events?limit=300`, {
      'accept-encoding': 'gzip',
    })
    expect(events.status).toBe(200)
    expect(events.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(events.body).toString()).events).toHaveLength(300)
    const stats = await download(`${h.url}/api/simulation/statistics?interval=15m`, {
      'accept-encoding': 'br',
    })
    expect(stats.status).toBe(200)
    expect(stats.headers['content-encoding']).toBe('br')
    for (let i = 0; i < 2; i++) {
      expect((await download(`${h.url}/api/simulation/events?limit=1`)).status).toBe(200)
    }
    const refused = await download(`${h.url}/api/simulation/events?limit=1`)
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toBeDefined()
    expect(JSON.parse(refused.body.toString()).error.code).toBe('VS_GW_RATE_LIMITED')
    // Cheap reads are not limited.
    for (let i = 0; i < 5; i++) expect((await download(`${h.url}/health/live`)).status).toBe(200)
  })
})
