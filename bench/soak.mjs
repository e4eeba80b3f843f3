#!/usr/bin/env node
/**
 * `pnpm soak`: the long-run check of issue 14, not part of CI. Starts the
 * generator and the gateway (under a key prefix of its own, against the Redis
 * DESIGN.md's discovery finds) at 600× and, for VERISIM_SOAK_MINUTES (default
 * 60), runs against them on loopback:
 *
 * - 200 WebSocket clients connecting and disconnecting (each lives 5–60 s);
 * - one reference client (the SDK) subscribed to every stream the whole time;
 * - a history reader (30 days at 15 minutes, every 5 s);
 * - a fuzzer (junk WebSocket frames and REST bodies, 20 a second).
 *
 * Every 30 s it samples the prefix's Redis key count and memory, the gateway's
 * and the generator's RSS and the reference client's lag. At the end: each
 * figure's change after the warm-up (the first VERISIM_SOAK_WARMUP_MINUTES,
 * default 10) — flat means within ±10 % — and the reference client's gaps:
 * every event Redis still holds between its first and last event, delivered
 * exactly once. Prints a table; writes bench/results/soak-<time>.json.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { createClient } from '@verisim/client'
import { compareIds, deletePrefix, discoverRedis, freePort } from '@verisim/bus'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const MINUTES = Number(process.env.VERISIM_SOAK_MINUTES ?? 60)
const WARMUP_MINUTES = Number(process.env.VERISIM_SOAK_WARMUP_MINUTES ?? Math.min(10, MINUTES / 3))
const CLIENTS = Number(process.env.VERISIM_SOAK_CLIENTS ?? 200)
const SPEED = process.env.VERISIM_SOAK_SPEED ?? '600'
const SAMPLE_MS = 30_000
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
  }
  const generator = startService('generator', { ...base, GENERATOR_PORT: String(await freePort()) })
  const gateway = startService('gateway', { ...base, PORT: String(port) })
  const http = `http://127.0.0.1:${port}`
  const ws = `ws://127.0.0.1:${port}/ws`
  await waitReady(`${http}/health/ready`)
  log(
    `stack ready (prefix ${prefix}, speed ${SPEED}×); soaking ${MINUTES} min with ${CLIENTS} churning clients`,
  )

  // the reference client
  const received = []
  let resets = 0
  const ref = createClient({
    url: ws,
    topics: ['*'],
    WebSocket,
    reconnect: { initialMs: 100, maxMs: 2000 },
  })
  ref.on('batch', (events) => {
    for (const e of events) received.push(e.id)
  })
  ref.on('reset', () => resets++)
  let lastEventAt = Date.now()
  ref.on('batch', () => (lastEventAt = Date.now()))

  // churning clients
  const endAt = Date.now() + MINUTES * 60_000
  const churn = async () => {
    while (Date.now() < endAt) {
      const c = new WebSocket(ws)
      c.on('error', () => undefined)
      c.on('open', () =>
        c.send(JSON.stringify({ type: 'subscribe', topics: ['customer.*', 'session.*'] })),
      )
      c.on('message', () => undefined)
      await sleep(5000 + Math.random() * 55_000)
      c.terminate()
    }
  }
  const churners = Array.from({ length: CLIENTS }, (_, i) => sleep(i * 50).then(churn))

  // a history reader
  let historyReads = 0
  let historyErrors = 0
  const reader = (async () => {
    while (Date.now() < endAt) {
      try {
        const start = new Date(Date.now() - 30 * 86_400_000).toISOString()
        const r = await fetch(`${http}/api/simulation/history?start=${start}&interval=15m`, {
          headers: { 'accept-encoding': 'gzip' },
        })
        await r.arrayBuffer()
        historyReads++
        if (!r.ok && r.status !== 429) historyErrors++
      } catch {
        historyErrors++
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
      referenceEvents: received.length,
      referenceQuietMs: Date.now() - lastEventAt,
    }
    samples.push(s)
    log(
      `min ${s.minute.toFixed(1)}: keys ${s.redisKeys}, redis ${s.redisMemoryMb.toFixed(0)} MB, gateway ${s.gatewayRssMb.toFixed(0)} MB, generator ${s.generatorRssMb.toFixed(0)} MB, reference ${s.referenceEvents} events`,
    )
  }
  while (Date.now() < endAt) {
    await sleep(Math.min(SAMPLE_MS, endAt - Date.now()))
    await sample()
  }
  await Promise.all([...churners, reader, fuzzer])

  // gaps: every event Redis still holds from the reference's first event on, delivered exactly once
  const first = received[0]
  const last = received.at(-1)
  let missing = 0
  let duplicates = 0
  let outOfOrder = 0
  const got = new Set()
  for (let i = 0; i < received.length; i++) {
    if (got.has(received[i])) duplicates++
    got.add(received[i])
    if (i > 0 && compareIds(received[i], received[i - 1]) <= 0) outOfOrder++
  }
  let stored = 0
  let oldest = null
  for (const key of await redis.keys(`${prefix}:{*}:ch:*`)) {
    if (key.endsWith(':simulation_control')) continue
    const entries = await redis.xrange(key, first, last)
    for (const [id] of entries) {
      stored++
      if (!got.has(id)) missing++
      if (oldest === null || compareIds(id, oldest) < 0) oldest = id
    }
  }
  stopping = true
  ref.close()
  generator.kill('SIGTERM')
  gateway.kill('SIGTERM')
  await sleep(2000)
  await deletePrefix(redis, prefix)
  redis.disconnect()
  await handle.stop()

  const after = samples.filter((s) => s.minute >= WARMUP_MINUTES)
  const change = (k) => {
    if (after.length < 2) return NaN
    return (after.at(-1)[k] - after[0][k]) / after[0][k]
  }
  const rows = ['redisKeys', 'redisMemoryMb', 'gatewayRssMb', 'generatorRssMb'].map((k) => ({
    figure: k,
    afterWarmup: after[0]?.[k],
    end: after.at(-1)?.[k],
    max: Math.max(...after.map((s) => s[k])),
    change: change(k),
    flat: Math.abs(change(k)) <= 0.1,
  }))
  const result = {
    minutes: MINUTES,
    warmupMinutes: WARMUP_MINUTES,
    speed: Number(SPEED),
    clients: CLIENTS,
    reference: {
      events: received.length,
      storedInRange: stored,
      missing,
      duplicates,
      outOfOrder,
      resets,
      oldestStored: oldest,
    },
    historyReads,
    historyErrors,
    fuzzed,
    figures: rows,
    samples,
  }
  console.table(rows.map((r) => ({ ...r, change: `${(r.change * 100).toFixed(1)} %` })))
  console.log(
    `reference client: ${received.length} events, ${missing} missing and ${duplicates} duplicated of ${stored} stored in its range, ${resets} resets; ` +
      `history reads ${historyReads} (${historyErrors} errors); fuzz messages ${fuzzed}`,
  )
  mkdirSync(join(here, 'results'), { recursive: true })
  const file = join(here, 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  console.log(`written to ${file}`)
  const ok =
    missing === 0 && duplicates === 0 && rows.every((r) => r.flat || Number.isNaN(r.change))
  process.exitCode = ok ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
