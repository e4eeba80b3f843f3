#!/usr/bin/env node
/**
 * `pnpm soak`: the long-run check of issue 14, not part of CI. Starts the
 * generator and the gateway (under a key prefix of its own, against the Redis
 * DESIGN.md's discovery finds) at 600× and, for VERISIM_SOAK_MINUTES (default
 * 60), runs against them on loopback:
 *
 * - 200 WebSocket clients connecting and disconnecting (each lives 5–60 s), in
 *   a worker thread so their traffic does not slow the reference client;
 * - one reference client (the SDK) subscribed to every stream the whole time;
 * - a history reader (30 days at 15 minutes, every 5 s);
 * - a fuzzer (junk WebSocket frames and REST bodies, 20 a second).
 *
 * Every 30 s it samples the prefix's Redis key count and memory, the gateway's
 * and the generator's RSS and the reference client's lag. At the end: each
 * figure's change after the warm-up (the first VERISIM_SOAK_WARMUP_MINUTES,
 * default 25: the streams fill up, refused control results live 10) — flat means the median of the
 * last 5 minutes within ±10 % of the median of the first 5 after the warm-up
 * (single samples of RSS swing with GC; the endpoints are reported too) — and
 * the reference client's gaps.
 * Those are checked as the soak goes (an hour at 600× is ~28 million events,
 * more than a Set holds): every 2 s, the events it received up to the last id
 * of the round before are compared with what the channel streams hold between
 * the previous check and that id — each delivered exactly once, in order. A
 * window a stream had already trimmed is counted as unverified, never as fine.
 *
 * Every bounded key family reaches its bound within the warm-up, so "flat" is
 * the steady state, not a slope cut short: channel streams keep
 * VERISIM_SOAK_RETENTION (default 100,000, as in production) events each — the
 * quietest channel fills in about 20 minutes at 600×, hence the 25-minute
 * warm-up (with 40,000 it fills in 8, but at the busiest hours the reference
 * client then trails the busiest stream's trimming: an hour's run left 1 % of
 * its events unverifiable) — and history VERISIM_SOAK_HISTORY_DAYS (default 2)
 * simulated days (reached after 7 minutes; the default 60 days would take 2.5
 * hours). The reference client's lag (receipt time − the wall time in the
 * event's id) is reported too. Prints a table; writes
 * bench/results/soak-<time>.json.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, workerData } from 'node:worker_threads'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { createClient } from '@verisim/client'
import { compareIds, deletePrefix, discoverRedis, freePort } from '@verisim/bus'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const MINUTES = Number(process.env.VERISIM_SOAK_MINUTES ?? 60)
const WARMUP_MINUTES = Number(process.env.VERISIM_SOAK_WARMUP_MINUTES ?? Math.min(25, MINUTES / 3))
const CLIENTS = Number(process.env.VERISIM_SOAK_CLIENTS ?? 200)
const SPEED = process.env.VERISIM_SOAK_SPEED ?? '600'
const RETENTION = process.env.VERISIM_SOAK_RETENTION ?? '100000'
const HISTORY_DAYS = process.env.VERISIM_SOAK_HISTORY_DAYS ?? '2'
/**
 * Simulated start: a Sunday in an ordinary stretch of the calendar. An hour at
 * 600× covers 25 simulated days, and the load (so the generator's heap) follows
 * the world's calendar: a soak started on 6 December ran from the fall exams
 * (×1.5) into the winter holidays (×0.5), a third of the event rate, and the
 * generator's RSS fell 17 % with it. From 1 March the two 5-minute windows
 * compared (simulated days 10–12 and 22–24) are both weekdays, with no calendar
 * effect in between.
 */
const START = process.env.VERISIM_SOAK_START ?? '2026-03-01T00:00:00Z'
const SAMPLE_MS = 30_000
const VERIFY_MS = 2_000
const log = (m) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function startService(name, env) {
  const child = spawn(process.execPath, [join(root, `services/${name}/dist/main.js`)], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let tail = ''
  child.stderr.on('data', (d) => (tail = (tail + d).slice(-4000)))
  child.on('exit', (code, signal) => {
    if (!stopping) log(`${name} exited (${signal ?? code}) during the soak:\n${tail}`)
  })
  return child
}

const rssMb = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}

async function waitReady(url, ms = 120_000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return
    } catch {}
    await sleep(200)
  }
  throw new Error(`${url} not ready after ${ms / 1000} s`)
}

let stopping = false

async function main() {
  const handle = await discoverRedis({ log })
  const redis = new Redis(handle.url)
  const prefix = `soak${randomBytes(3).toString('hex')}`
  const port = await freePort()
  const base = {
    REDIS_URL: handle.url,
    VERISIM_PREFIX: prefix,
    HOST: '127.0.0.1',
    VERISIM_SPEED: SPEED,
    VERISIM_RETENTION: RETENTION,
    VERISIM_HISTORY_DAYS: HISTORY_DAYS,
    VERISIM_START: START,
  }
  const generator = startService('generator', { ...base, GENERATOR_PORT: String(await freePort()) })
  const gateway = startService('gateway', { ...base, PORT: String(port) })
  const http = `http://127.0.0.1:${port}`
  const ws = `ws://127.0.0.1:${port}/ws`
  await waitReady(`${http}/health/ready`)
  log(
    `stack ready (prefix ${prefix}, speed ${SPEED}×, simulated start ${START}); soaking ${MINUTES} min with ${CLIENTS} churning clients`,
  )

  // the reference client, checked against the channel streams as it goes
  const gaps = gapChecker(redis, prefix)
  let resets = 0
  const ref = createClient({
    url: ws,
    topics: ['*'],
    WebSocket,
    reconnect: { initialMs: 100, maxMs: 2000 },
  })
  /** Reference lag in ms (receipt − the write time in the id), in 10 ms steps up to 60 s. */
  const lagHist = new Uint32Array(6001)
  ref.on('batch', (events) => {
    const now = Date.now()
    for (const e of events) {
      gaps.receive(e.id)
      const lag = now - Number(e.id.slice(0, e.id.indexOf('-')))
      lagHist[Math.min(6000, Math.max(0, Math.round(lag / 10)))]++
    }
  })
  const lagQuantile = (q) => {
    let total = 0
    for (const n of lagHist) total += n
    let seen = 0
    for (let i = 0; i < lagHist.length; i++) {
      seen += lagHist[i]
      if (seen >= q * total) return i * 10
    }
    return NaN
  }
  ref.on('reset', () => resets++)
  let lastEventAt = Date.now()
  ref.on('batch', () => (lastEventAt = Date.now()))

  // churning clients, in a thread of their own: the ~150 MB/s they receive
  // must not hold up the reference client's event loop (it did: it fell behind
  // the streams' trimming at the busiest hours)
  const endAt = Date.now() + MINUTES * 60_000
  const churnThread = new Worker(fileURLToPath(import.meta.url), {
    workerData: { role: 'churn', ws, clients: CLIENTS, endAt },
  })
  const churners = [
    new Promise((resolve, reject) => {
      churnThread.once('exit', resolve)
      churnThread.once('error', reject)
    }),
  ]

  // a history reader
  let historyReads = 0
  let historyErrors = 0
  const reader = (async () => {
    while (Date.now() < endAt) {
      try {
        // 30 days before the simulation's now (not the wall clock's: the run starts on START)
        const state = await (await fetch(`${http}/api/simulation/state`)).json()
        const simNow = Date.parse(state.currentSimulationTime)
        if (Number.isNaN(simNow)) {
          // the generator has not written its state yet (the first read of a run)
          await sleep(1000)
          continue
        }
        const start = new Date(simNow - 30 * 86_400_000).toISOString()
        const r = await fetch(`${http}/api/simulation/history?start=${start}&interval=15m`, {
          headers: { 'accept-encoding': 'gzip' },
        })
        historyReads++
        if (!r.ok && r.status !== 429) {
          historyErrors++
          if (historyErrors === 1) log(`history read failed: ${r.status} ${await r.text()}`)
        } else await r.arrayBuffer()
      } catch (err) {
        historyErrors++
        if (historyErrors === 1) log(`history read failed: ${err?.message ?? err}`)
      }
      await sleep(5000)
    }
  })()

  // a fuzzer
  let fuzzed = 0
  const junk = () => {
    const pick = [
      () => randomBytes(1 + Math.floor(Math.random() * 200)).toString('latin1'),
      () => JSON.stringify({ type: 'subscribe', topics: [randomBytes(4).toString('hex')] }),
      () =>
        JSON.stringify({
          type: 'control',
          requestId: randomBytes(2).toString('hex'),
          action: 'set_speed',
          payload: { multiplier: 'x' },
        }),
      () => '['.repeat(5000),
      () => JSON.stringify({ type: randomBytes(3).toString('hex') }),
    ]
    return pick[Math.floor(Math.random() * pick.length)]()
  }
  const fuzzer = (async () => {
    const c = new WebSocket(ws)
    c.on('error', () => undefined)
    await new Promise((r) => c.once('open', r))
    while (Date.now() < endAt) {
      if (c.readyState === WebSocket.OPEN) c.send(junk())
      await fetch(`${http}/api/simulation/speed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: junk(),
      }).catch(() => undefined)
      fuzzed += 2
      await sleep(100)
    }
    c.terminate()
  })()

  // samples
  const samples = []
  const sample = async () => {
    let keys = 0
    let cursor = '0'
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      keys += batch.length
    } while (cursor !== '0')
    const info = await redis.info('memory')
    const s = {
      at: new Date().toISOString(),
      minute: (Date.now() - (endAt - MINUTES * 60_000)) / 60_000,
      redisKeys: keys,
      redisMemoryMb: Number(/used_memory:(\d+)/.exec(info)?.[1]) / 1048576,
      gatewayRssMb: rssMb(gateway.pid),
      generatorRssMb: rssMb(generator.pid),
      referenceEvents: gaps.figures.received,
      referenceQuietMs: Date.now() - lastEventAt,
    }
    samples.push(s)
    log(
      `min ${s.minute.toFixed(1)}: keys ${s.redisKeys}, redis ${s.redisMemoryMb.toFixed(0)} MB, gateway ${s.gatewayRssMb.toFixed(0)} MB, generator ${s.generatorRssMb.toFixed(0)} MB, reference ${s.referenceEvents} events`,
    )
  }
  let finished = false
  const verifier = (async () => {
    while (!finished) {
      await sleep(VERIFY_MS)
      await gaps.verify(false)
    }
  })()
  while (Date.now() < endAt) {
    await sleep(Math.min(SAMPLE_MS, endAt - Date.now()))
    await sample()
  }
  await Promise.all([...churners, reader, fuzzer])
  await sleep(2000) // the last batches in flight
  finished = true
  await verifier
  await gaps.verify(true)

  stopping = true
  ref.close()
  generator.kill('SIGTERM')
  gateway.kill('SIGTERM')
  await sleep(2000)
  await deletePrefix(redis, prefix)
  redis.disconnect()
  await handle.stop()

  // Flat: the level over the last 5 minutes within ±10 % of the level over the
  // first 5 after the warm-up (medians: one sample can catch a GC mid-cycle).
  // The endpoints' change is reported beside it.
  const after = samples.filter((s) => s.minute >= WARMUP_MINUTES)
  const win = Math.max(1, Math.min(10, Math.floor(after.length / 3)))
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  const rows = ['redisKeys', 'redisMemoryMb', 'gatewayRssMb', 'generatorRssMb'].map((k) => {
    const first = median(after.slice(0, win).map((s) => s[k]))
    const last = median(after.slice(-win).map((s) => s[k]))
    const change = after.length < 2 ? NaN : (last - first) / first
    return {
      figure: k,
      firstMedian: first,
      lastMedian: last,
      min: Math.min(...after.map((s) => s[k])),
      max: Math.max(...after.map((s) => s[k])),
      endpoints: after.length < 2 ? NaN : (after.at(-1)[k] - after[0][k]) / after[0][k],
      change,
      flat: Math.abs(change) <= 0.1,
    }
  })
  const result = {
    minutes: MINUTES,
    warmupMinutes: WARMUP_MINUTES,
    speed: Number(SPEED),
    clients: CLIENTS,
    retention: Number(RETENTION),
    historyDays: Number(HISTORY_DAYS),
    start: START,
    reference: {
      ...gaps.figures,
      resets,
      lagMs: { p50: lagQuantile(0.5), p99: lagQuantile(0.99), p999: lagQuantile(0.999) },
    },
    historyReads,
    historyErrors,
    fuzzed,
    figures: rows,
    samples,
  }
  const pct = (x) => `${(x * 100).toFixed(1)} %`
  console.table(rows.map((r) => ({ ...r, change: pct(r.change), endpoints: pct(r.endpoints) })))
  const g = gaps.figures
  console.log(
    `reference client: ${g.received} events, ${g.missing} missing, ${g.duplicates} duplicated, ${g.outOfOrder} out of order, ${g.unknown} not in the streams, of ${g.checked} checked against the streams (${g.unverifiedWindows} windows trimmed before their check), ${resets} resets; lag p50 ${lagQuantile(0.5)} ms, p99 ${lagQuantile(0.99)} ms, p99.9 ${lagQuantile(0.999)} ms; ` +
      `history reads ${historyReads} (${historyErrors} errors); fuzz messages ${fuzzed}`,
  )
  mkdirSync(join(here, 'results'), { recursive: true })
  const file = join(here, 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  console.log(`written to ${file}`)
  const ok =
    g.missing === 0 &&
    g.duplicates === 0 &&
    g.outOfOrder === 0 &&
    g.unverifiedWindows === 0 &&
    g.unknown === 0 &&
    g.checked > 0 &&
    rows.every((r) => r.flat || Number.isNaN(r.change))
  process.exitCode = ok ? 0 : 1
}

/**
 * The reference client's gap check, window by window: `verify` compares the ids
 * received up to `hi` (the newest id at the previous call: a round of slack for
 * the channels' merge) with what every channel stream holds in (last hi, hi].
 */
function gapChecker(redis, prefix) {
  let pending = []
  let last = null
  let verifiedTo = null
  let roundEnd = null
  const figures = {
    received: 0,
    checked: 0,
    missing: 0,
    duplicates: 0,
    outOfOrder: 0,
    unknown: 0,
    unverifiedWindows: 0,
    /** When each unverified window was found (wall time). */
    unverifiedAt: [],
  }
  const channelKeys = async () =>
    (await redis.keys(`${prefix}:{*}:ch:*`)).filter((k) => !k.endsWith(':simulation_control'))
  return {
    figures,
    receive(id) {
      figures.received++
      if (last !== null && compareIds(id, last) <= 0) figures.outOfOrder++
      last = id
      pending.push(id)
    },
    async verify(final) {
      const hi = final ? last : roundEnd
      roundEnd = last
      if (hi === null || (verifiedTo !== null && compareIds(hi, verifiedTo) <= 0)) return
      const take = []
      const keep = []
      for (const id of pending) (compareIds(id, hi) <= 0 ? take : keep).push(id)
      pending = keep
      if (take.length === 0) return
      const got = new Set()
      for (const id of take) {
        if (got.has(id)) figures.duplicates++
        got.add(id)
      }
      // the first window starts at the first event received
      const lo = verifiedTo === null ? take[0] : `(${verifiedTo}`
      const keys = await channelKeys()
      for (const key of keys) {
        // a stream that has trimmed (added > length) up to a first entry past the last check lost part of this window unseen
        const info = await redis.call('XINFO', 'STREAM', key)
        const field = (name) => info[info.indexOf(name) + 1]
        const first = String(field('recorded-first-entry-id'))
        const trimmed = Number(field('entries-added')) > Number(field('length'))
        if (verifiedTo !== null && trimmed && compareIds(first, verifiedTo) > 0) {
          figures.unverifiedWindows++
          figures.unverifiedAt.push(new Date().toISOString())
        }
        for (const [id] of await redis.xrange(key, lo, hi)) {
          figures.checked++
          if (got.has(id)) got.delete(id)
          else figures.missing++
        }
      }
      figures.unknown += got.size
      verifiedTo = hi
    },
  }
}

/** The churning clients' thread: each connects, subscribes, lives 5–60 s, and again until the end. */
async function churnClients({ ws, clients, endAt }) {
  const churn = async () => {
    while (Date.now() < endAt) {
      const c = new WebSocket(ws)
      c.on('error', () => undefined)
      c.on('open', () =>
        c.send(JSON.stringify({ type: 'subscribe', topics: ['customer.*', 'session.*'] })),
      )
      c.on('message', () => undefined)
      await sleep(Math.min(5000 + Math.random() * 55_000, Math.max(0, endAt - Date.now())))
      c.terminate()
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, i) => sleep(i * 50).then(churn)))
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
} else if (workerData?.role === 'churn') {
  await churnClients(workerData)
}
