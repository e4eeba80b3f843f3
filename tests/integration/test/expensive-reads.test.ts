/**
 * Issue 14 end to end: a real generator and gateway, the 30-day baseline the
 * generator stores, and twenty concurrent 30-day history reads at 15 minutes
 * (half gzip, half plain, from a thread of their own) while a WebSocket
 * client receives the live stream: its latency (receive time against the
 * wall-clock millisecond in each event id), /health and the gateway's RSS.
 * The per-client limit is off here: what is measured is that the reads
 * themselves cannot starve anyone.
 *
 * Before the change this setup gave live p99 ≈ 1.6 s, /health 3.7 s and RSS
 * 420 MB+. The stated bounds (p99 ≤ 250 ms, /health ≤ 100 ms, RSS ≤ 300 MB)
 * are asserted by the gateway's own test (services/gateway/test/
 * expensive-reads.test.ts, producer in process). Here the generator, Redis
 * and the readers share the same 2 cores (and Redis with whatever else runs),
 * and the measured p99 went 110–400 ms with the gateway's event loop never
 * held over ~75 ms: the bounds below catch the original failure with room for
 * that noise.
 */
import { readFileSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestClient, rest, startStack, type Stack, until } from './harness.js'

let stack: Stack
const START = '2026-03-02T09:10:00Z'
const DAY = 86_400_000

beforeAll(async () => {
  stack = await startStack({
    env: { VERISIM_SPEED: '10', VERISIM_START: START },
    gatewayEnv: { VERISIM_RATE_LIMIT_MAX: '0' },
  })
})
afterAll(async () => {
  await stack?.stop()
})

const { call } = rest(() => stack)

const READERS = `
const http = require('node:http')
const { parentPort, workerData } = require('node:worker_threads')
const get = (i) => new Promise((resolve, reject) => {
  const headers = i % 2 === 0 ? { 'accept-encoding': 'gzip' } : {}
  http.get(workerData.url, { headers }, (res) => {
    let bytes = 0
    res.on('data', (c) => { bytes += c.length })
    res.on('end', () => resolve({ status: res.statusCode, encoding: res.headers['content-encoding'] ?? null, bytes }))
    res.on('error', reject)
  }).on('error', reject)
})
Promise.all(Array.from({ length: workerData.n }, (_, i) => get(i))).then(
  (reads) => parentPort.postMessage(reads),
  (err) => parentPort.postMessage({ error: String(err) }),
)
`
type Read = { status: number; encoding: string | null; bytes: number }

function readInWorker(url: string, n: number): Promise<Read[]> {
  const w = new Worker(READERS, { eval: true, workerData: { url, n } })
  return new Promise((resolve, reject) => {
    w.once('message', (m: Read[] | { error: string }) => {
      void w.terminate()
      if ('error' in m) reject(new Error(m.error))
      else resolve(m)
    })
    w.once('error', reject)
  })
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}

/** The largest event-loop delay since the last call, in ms (prom-client resets it per scrape). */
async function lagMax(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(/^\S*eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]) * 1000
}

function rss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(kb?.[1] ?? 0) * 1024
}

describe('expensive reads against live delivery', () => {
  it('should keep live delivery, /health and the gateway RSS within bounds under twenty 30-day reads', async () => {
    await until(
      async () => (await call('GET', '/api/simulation/history/versions')).status === 200,
      30_000,
      'the stored history',
    )
    const c = new TestClient(stack.wsUrl)
    await c.opened
    const latencies: number[] = []
    const quiet: number[] = []
    let measuring = false
    let warming = false
    c.ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; events?: { id: string }[] }
      if ((!measuring && !warming) || m.type !== 'batch') return
      const at = Date.now()
      const into = measuring ? latencies : quiet
      for (const e of m.events!) into.push(at - Number(e.id.split('-')[0]))
    })
    c.send({ type: 'subscribe', topics: ['*'], snapshot: 0 })
    await c.waitFor(() => c.message('subscribed'), 5000, 'subscribed')

    const pid = stack.gateway.child.pid!
    const idle = rss(pid)
    let peak = idle
    const health: number[] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const t0 = performance.now()
        const r = await fetch(`${stack.gatewayUrl}/health/live`)
        await r.arrayBuffer()
        health.push(performance.now() - t0)
        peak = Math.max(peak, rss(pid))
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    try {
      warming = true
      await new Promise((r) => setTimeout(r, 2000))
      warming = false
      await lagMax(stack.gatewayUrl) // resets the histograms
      await lagMax(stack.generatorUrl)
      measuring = true
      const start = new Date(Date.parse(START) - 30 * DAY).toISOString()
      const t0 = performance.now()
      const reads = await readInWorker(
        `${stack.gatewayUrl}/api/simulation/history?start=${start}&interval=15m`,
        20,
      )
      const readsMs = performance.now() - t0
      await new Promise((r) => setTimeout(r, 1000))
      measuring = false
      const gwLag = await lagMax(stack.gatewayUrl)
      const genLag = await lagMax(stack.generatorUrl)
      const metrics = await (await fetch(`${stack.gatewayUrl}/metrics`)).text()
      const builds = /^verisim_gateway_history_build_seconds_count (\S+)$/m.exec(metrics)?.[1]
      const buildSum = Number(
        /^verisim_gateway_history_build_seconds_sum (\S+)$/m.exec(metrics)?.[1],
      )
      const p99 = quantile(latencies, 0.99)
      const line =
        `20 reads in ${readsMs.toFixed(0)} ms, ${builds} builds (${(buildSum * 1000).toFixed(0)} ms) (plain ${(reads[1]!.bytes / 1e6).toFixed(1)} MB, gzip ${(reads[0]!.bytes / 1e6).toFixed(2)} MB); ` +
        `without reads p50 ${quantile(quiet, 0.5)} ms, p99 ${quantile(quiet, 0.99)} ms; ` +
        `live events ${latencies.length}, p50 ${quantile(latencies, 0.5)} ms, p99 ${p99} ms; ` +
        `health max ${Math.max(...health).toFixed(1)} ms over ${health.length}; ` +
        `event-loop delay max: gateway ${gwLag.toFixed(0)} ms, generator ${genLag.toFixed(0)} ms; RSS idle ${(idle / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB`
      console.log(line)
      for (const r of reads) expect(r.status, line).toBe(200)
      expect(reads.filter((r) => r.encoding === 'gzip')).toHaveLength(10)
      expect(reads[1]!.bytes).toBeGreaterThan(5e6)
      expect(latencies.length).toBeGreaterThan(100)
      expect(p99, line).toBeLessThanOrEqual(500)
      expect(Math.max(...health), line).toBeLessThanOrEqual(250)
      expect(gwLag, line).toBeLessThanOrEqual(150)
      expect(peak, line).toBeLessThanOrEqual(300 * 1024 * 1024)
    } finally {
      sampling = false
      await sampler
      await c.close()
    }
  }, 90_000)
})
