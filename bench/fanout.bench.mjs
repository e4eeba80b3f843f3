/**
 * Fan-out: N = 1,000 WebSocket clients subscribed to everything, on loopback,
 * counted by a client process that does not parse JSON (fixed-size events:
 * counts come from frame lengths, write times from the id at a known offset).
 *
 * Systems, each in a process of its own with its CPU read from inside
 * (process.cpuUsage over IPC):
 *   verisim          the gateway (services/gateway/dist/main.js), reading the
 *                    world's channel streams as a consumer group
 *   bare ws          baseline (a): XREAD the same streams, one pre-serialized
 *                    Buffer per 100 ms window written to every client
 *   socket.io batch  baseline (b): Socket.IO 4 + @socket.io/redis-streams-adapter,
 *                    one `batch` emit per 100 ms carrying the same events
 *   socket.io event  baseline (b), idiomatic: one emit per event
 *
 * For each: (1) a fixed offered load of 2,000 events/s: delivered events/s (all
 * clients), server CPU µs per delivery, p50/p99 latency from the event's write
 * (its id's ms, taken just before XADD) to the client; (2) saturation: the
 * offered load steps up until clients fall behind (under 90 % of it delivered,
 * p99 over 1 s, or a client closed) twice in a row, then bisects twice between
 * the highest step that kept up and the next that did not. Saturated throughput
 * is the highest rate sustained at a step that kept up (delivered, but no more
 * than offered: a step may drain a backlog of the one before); the peak
 * delivered rate of any step is reported beside it.
 *
 * The systems run side by side: all are started first, and their measurements
 * take turns (ROUNDS fixed-load windows each, medians reported; the saturation
 * ladder step by step), each followed by a pause until its backlog has drained.
 * On a small machine the clients and the server share the cores, so whatever
 * else runs moves every figure; taking turns spreads that over all systems
 * instead of letting it fall on one. socket.io per event, behind at any load,
 * runs alone afterwards.
 *
 * Targets (issue 6): saturated ≥ 0.8 × bare ws and ≥ 1.1 × socket.io batched;
 * CPU per delivery at the fixed load ≤ 1.25 × bare ws; p99 ≤ 150 ms.
 *
 * Diagnostic (only when named): bare-batch, the bare ws server fed one Redis
 * entry per 100 ms batch instead of one per event (see fanout/bare-ws.mjs).
 *
 * Env: VERISIM_BENCH_CLIENTS (default 1000), VERISIM_BENCH_ONLY=verisim,bare,…,
 * VERISIM_BENCH_ROUNDS (fixed-load windows per system, default 3)
 */
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Redis } from 'ioredis'
import { deletePrefix, freePort } from '@verisim/bus'
import { WORLD, request } from './fanout/common.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const N = Number(process.env.VERISIM_BENCH_CLIENTS ?? 1000)
const FIXED_RATE = 2000
const SAT_RATES = [3000, 4000, 5000, 6500, 8000, 10_000, 13_000, 16_000, 20_000]
const WARMUP_MS = 2000
const FIXED_MS = 5000
const STEP_SETTLE_MS = 1000
const STEP_MS = 2500
const ROUNDS = Number(process.env.VERISIM_BENCH_ROUNDS ?? 3)
const REFINE = 2

const SYSTEMS = [
  { key: 'verisim', name: 'verisim gateway', producer: 'streams', clients: 'verisim' },
  { key: 'bare', name: 'bare ws', producer: 'streams', clients: 'bare' },
  { key: 'sio-batch', name: 'socket.io batched', producer: 'sio-batch', clients: 'sio' },
  { key: 'sio-event', name: 'socket.io per event', producer: 'sio-event', clients: 'sio' },
  // Diagnostic, only when named in VERISIM_BENCH_ONLY: bare ws fed one entry per batch.
  {
    key: 'bare-batch',
    name: 'bare ws fed by batches',
    producer: 'batches',
    clients: 'bare',
    optional: true,
  },
]

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Forks a child with IPC; resolves once it sends `{type}` (or a readiness probe passes). */
function start(modulePath, args, { env, execArgv = [], until = 'ready', probe } = {}) {
  const child = fork(modulePath, args, {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  const output = []
  const keep = (d) => {
    output.push(d.toString())
    if (output.length > 50) output.shift()
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  child.on('message', (m) => m?.type === 'log' && keep(m.msg))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${modulePath} did not start: ${output.join('')}`)),
      30_000,
    )
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    if (probe) {
      const poll = async () => {
        while (child.exitCode === null) {
          if (await probe().catch(() => false)) return done()
          await sleep(100)
        }
        reject(new Error(`${modulePath} exited: ${output.join('')}`))
      }
      void poll()
    } else {
      child.on('message', (m) => m?.type === until && done())
      void exited.then(() => reject(new Error(`${modulePath} exited: ${output.join('')}`)))
    }
  })
  return {
    child,
    ready,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(t)
    },
  }
}

function percentile(hist, q) {
  let total = 0
  for (const c of hist) total += c
  if (total === 0) return NaN
  let seen = 0
  const want = q * total
  for (let ms = 0; ms < hist.length; ms++) {
    seen += hist[ms]
    if (seen >= want) return ms
  }
  return hist.length - 1
}

/** Busy share of the whole machine (all cores) from /proc/stat, where there is one. */
function machineTicks() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    const idle = cpu[3] + cpu[4]
    return { idle, total: cpu.reduce((a, b) => a + b, 0) }
  } catch {
    return null
  }
}

async function redisCpu(redis) {
  const info = await redis.info('cpu')
  const f = (k) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return f('used_cpu_user') + f('used_cpu_sys')
}

/** The gateway's own view (its /metrics): mean flush time and unsent bytes over all clients. */
async function gatewayDiag(httpUrl) {
  if (!httpUrl) return null
  const text = await (await fetch(`${httpUrl}/metrics`)).text()
  const v = (re) => Number(re.exec(text)?.[1] ?? NaN)
  return {
    flushSum: v(/^verisim_gateway_flush_seconds_sum ([\d.e+-]+)$/m),
    flushCount: v(/^verisim_gateway_flush_seconds_count (\d+)$/m),
    buffered: v(/^verisim_gateway_client_buffered_bytes\{stat="sum"\} (\d+)$/m),
  }
}

async function measureWindow(server, clients, producer, redis, ms, httpUrl) {
  const g0 = await gatewayDiag(httpUrl)
  await request(clients.child, { type: 'reset' })
  const r0 = await redisCpu(redis)
  const k0 = (await request(clients.child, { type: 'stats' })).cpu
  const c0 = await request(server.child, { type: 'cpu' })
  const m0 = machineTicks()
  const p0 = await request(producer.child, { type: 'stats' })
  const w0 = p0.written
  const t0 = performance.now()
  await sleep(ms)
  const c1 = await request(server.child, { type: 'cpu' })
  const m1 = machineTicks()
  const g1 = await gatewayDiag(httpUrl)
  const st = await request(clients.child, { type: 'stats' })
  const p1 = await request(producer.child, { type: 'stats' })
  const w1 = p1.written
  const r1 = await redisCpu(redis)
  const secs = (performance.now() - t0) / 1000
  const clientCores = (st.cpu.user + st.cpu.system - k0.user - k0.system) / 1e6 / secs
  const cpuUs = c1.usage.user + c1.usage.system - (c0.usage.user + c0.usage.system)
  return {
    offered: (w1 - w0) / secs,
    delivered: st.deliveries / secs,
    perClient: st.deliveries / secs / N,
    cpuPerDelivery: st.deliveries > 0 ? cpuUs / st.deliveries : NaN,
    cpuCores: cpuUs / 1e6 / secs,
    p50: percentile(st.hist, 0.5),
    p99: percentile(st.hist, 0.99),
    hist: st.hist,
    bad: st.bad,
    ready: st.ready,
    closed: st.closed,
    closeCodes: st.closeCodes,
    rssMiB: c1.rss / 2 ** 20,
    clientCores,
    producerCores: (p1.cpu.user + p1.cpu.system - p0.cpu.user - p0.cpu.system) / 1e6 / secs,
    redisCores: (r1 - r0) / secs,
    machineBusy: m0 && m1 ? 1 - (m1.idle - m0.idle) / (m1.total - m0.total) : NaN,
    gateway:
      g0 && g1
        ? {
            flushMs: ((g1.flushSum - g0.flushSum) / (g1.flushCount - g0.flushCount)) * 1000,
            unsentMiB: g1.buffered / 2 ** 20,
          }
        : null,
  }
}

const behind = (m) => m.perClient < 0.9 * m.offered || m.p99 > 1000 || m.closed > 0 || m.ready < N
/** Delivered, but no more than offered (a step may drain a backlog of the one before); 0 when behind. */
const sustained = (m) => (behind(m) ? 0 : Math.min(m.delivered, m.offered * N))
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Starts a system's producer, server and clients, and connects the clients (no load yet). */
async function launch(sys, redisUrl) {
  const redis = new Redis(redisUrl)
  const prefix = `bench${randomBytes(3).toString('hex')}`
  const port = await freePort()
  const producer = start(join(here, 'fanout/producer.mjs'), [redisUrl, prefix, sys.producer])
  const h = { sys, redis, prefix, producer, server: null, clients: null, diagUrl: null }
  try {
    await producer.ready
    if (sys.key === 'verisim') {
      h.server = start(join(here, '../services/gateway/dist/main.js'), [], {
        execArgv: ['--import', pathToFileURL(join(here, 'fanout/cpu-probe.mjs')).href],
        env: {
          REDIS_URL: redisUrl,
          VERISIM_PREFIX: prefix,
          VERISIM_WORLD: WORLD,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'error',
          GATEWAY_INSTANCE_ID: `bench-${prefix}`,
        },
        probe: async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok,
      })
      h.diagUrl = `http://127.0.0.1:${port}`
    } else {
      const [file, source] =
        sys.clients === 'bare'
          ? ['fanout/bare-ws.mjs', sys.producer === 'batches' ? 'batches' : 'streams']
          : ['fanout/sio-server.mjs']
      h.server = start(join(here, file), [redisUrl, prefix, String(port), source ?? ''], {
        until: 'listening',
      })
    }
    const url = `ws://127.0.0.1:${port}${sys.key === 'verisim' ? '/ws' : ''}`
    h.clients = start(join(here, 'fanout/clients.mjs'), [url, String(N), sys.clients])
    await h.server.ready
    await h.clients.ready
    const { ready } = await request(h.clients.child, { type: 'connect' })
    if (ready < N) throw new Error(`only ${ready} of ${N} clients connected to ${sys.name}`)
    return h
  } catch (err) {
    await shutdown(h)
    throw err
  }
}

async function shutdown(h) {
  if (h.clients) await request(h.clients.child, { type: 'close' }).catch(() => undefined)
  await Promise.all([h.clients?.stop(), h.server?.stop(), h.producer.stop()])
  await deletePrefix(h.redis, h.prefix).catch(() => undefined)
  h.redis.disconnect()
}

/**
 * Stops the load and waits until the clients received everything the server
 * still had queued (no delivery for 500 ms), so the next system is measured on
 * a quiet machine; reconnects clients the server closed.
 */
async function quiesce(h) {
  await request(h.producer.child, { type: 'rate', rate: 0 })
  let last = -1
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const { total } = await request(h.clients.child, { type: 'stats' })
    if (total === last) break
    last = total
    await sleep(500)
  }
  const { ready } = await request(h.clients.child, { type: 'reconnect' })
  if (ready < N) throw new Error(`only ${ready} of ${N} clients reconnected to ${h.sys.name}`)
}

/** One measurement of a system at an offered load, then back to idle. */
async function measureAt(h, rate, settleMs, windowMs) {
  await request(h.producer.child, { type: 'rate', rate })
  await sleep(settleMs)
  const closedBefore = (await request(h.clients.child, { type: 'stats' })).closed
  const m = await measureWindow(h.server, h.clients, h.producer, h.redis, windowMs, h.diagUrl)
  m.closed -= closedBefore
  await quiesce(h)
  return { rate, ...m }
}

const diag = (m) =>
  m.gateway
    ? `; flush ${m.gateway.flushMs.toFixed(1)} ms, unsent ${m.gateway.unsentMiB.toFixed(1)} MiB`
    : ''
const describe = (m) =>
  `${Math.round(m.delivered).toLocaleString('en-US')} deliveries/s ` +
  `(${Math.round(m.perClient)} of ${Math.round(m.offered)} events/s per client), ` +
  `${m.cpuPerDelivery.toFixed(3)} µs CPU each, p50 ${m.p50} ms, p99 ${m.p99} ms, ` +
  `${m.cpuCores.toFixed(2)} cores (clients ${m.clientCores.toFixed(2)}, producer ${m.producerCores.toFixed(2)}, ` +
  `redis ${m.redisCores.toFixed(2)}; machine ${Math.round(m.machineBusy * 100)}% busy${diag(m)})` +
  (m.closed ? `, ${m.closed} clients closed ${JSON.stringify(m.closeCodes)}` : '') +
  (m.bad ? `, ${m.bad} malformed frames` : '') +
  (behind(m) ? ' — behind' : '')

/**
 * Measures a set of systems side by side. Every system is started up front and
 * idles while another is measured, and the measurements take turns (round by
 * round, step by step), so a change in what else the machine is doing falls on
 * all of them alike instead of on whichever ran at that moment.
 *   fixed load: ROUNDS windows of FIXED_MS at 2,000 events/s each; the median
 *     CPU per delivery and latencies over all windows' samples.
 *   saturation: the ladder of offered rates, each system until it falls behind
 *     twice in a row; then REFINE bisections between its highest rate that kept
 *     up and the next one that did not, so the ladder's coarse steps do not
 *     decide a ratio.
 */
async function measureSystems(systems, redisUrl, log, rounds = ROUNDS) {
  const hs = []
  try {
    for (const sys of systems) {
      log(`${sys.name}: starting, ${N} clients`)
      hs.push(await launch(sys, redisUrl))
    }
    for (const h of hs) {
      h.fixed = []
      h.steps = []
      h.strikes = 0
    }
    for (let round = 1; round <= rounds; round++) {
      for (const h of hs) {
        const m = await measureAt(h, FIXED_RATE, WARMUP_MS, FIXED_MS)
        h.fixed.push(m)
        log(`${h.sys.name} @${FIXED_RATE}/s (round ${round}/${rounds}): ${describe(m)}`)
      }
    }
    // A system behind at the fixed load (socket.io per event) has no capacity to find.
    const climbing = hs.filter((h) => h.fixed.filter(behind).length <= rounds / 2)
    for (const rate of SAT_RATES) {
      const active = climbing.filter((h) => h.strikes < 2)
      if (active.length === 0) break
      for (const h of active) {
        const m = await measureAt(h, rate, STEP_SETTLE_MS, STEP_MS)
        h.steps.push(m)
        h.strikes = behind(m) ? h.strikes + 1 : 0
        log(`${h.sys.name} @${rate}/s: ${describe(m)}`)
      }
    }
    for (const h of climbing) {
      const kept = [FIXED_RATE, ...h.steps.filter((m) => !behind(m)).map((m) => m.rate)]
      h.lo = Math.max(...kept)
      h.hi = Math.min(...h.steps.filter((m) => behind(m) && m.rate > h.lo).map((m) => m.rate))
    }
    for (let i = 0; i < REFINE; i++) {
      for (const h of climbing) {
        if (!Number.isFinite(h.hi)) continue
        const rate = Math.round((h.lo + h.hi) / 2 / 100) * 100
        if (rate <= h.lo || rate >= h.hi) continue
        const m = await measureAt(h, rate, STEP_SETTLE_MS, STEP_MS)
        h.steps.push(m)
        if (behind(m)) h.hi = rate
        else h.lo = rate
        log(`${h.sys.name} @${rate}/s (refining): ${describe(m)}`)
      }
    }
    return Object.fromEntries(hs.map((h) => [h.sys.key, summarize(h)]))
  } finally {
    await Promise.all(hs.map(shutdown))
  }
}

function summarize(h) {
  const hist = new Array(h.fixed[0].hist.length).fill(0)
  for (const m of h.fixed) m.hist.forEach((c, i) => (hist[i] += c))
  const cpu = h.fixed.map((m) => m.cpuPerDelivery)
  const fixed = {
    delivered: median(h.fixed.map((m) => m.delivered)),
    perClient: median(h.fixed.map((m) => m.perClient)),
    offered: median(h.fixed.map((m) => m.offered)),
    windows: cpu.length,
    cpuPerDelivery: median(cpu),
    cpuMin: Math.min(...cpu),
    cpuMax: Math.max(...cpu),
    cpuCores: median(h.fixed.map((m) => m.cpuCores)),
    rssMiB: Math.max(...h.fixed.map((m) => m.rssMiB)),
    p50: percentile(hist, 0.5),
    p99: percentile(hist, 0.99),
  }
  const all = [...h.fixed, ...h.steps]
  const saturated = all.reduce((a, b) => (sustained(b) > sustained(a) ? b : a))
  const peak = all.reduce((a, b) => (b.delivered > a.delivered ? b : a))
  return {
    fixed,
    saturated: { ...saturated, sustained: sustained(saturated) },
    peak,
    steps: all.length,
    upTo: h.hi,
  }
}

export default async function run(ctx) {
  const redisUrl = await ctx.redisUrl()
  const load = os.loadavg()[0]
  ctx.log(
    `load average before: ${load.toFixed(2)} on ${os.cpus().length} cores (other work on the machine skews every figure)`,
  )
  const only = process.env.VERISIM_BENCH_ONLY?.split(',')
  const unknown = only?.filter((key) => !SYSTEMS.some((sys) => sys.key === key)) ?? []
  if (unknown.length > 0) {
    throw new Error(
      `VERISIM_BENCH_ONLY: unknown system ${unknown.join(', ')}; expected some of ${SYSTEMS.map((sys) => sys.key).join(', ')}`,
    )
  }
  const chosen = SYSTEMS.filter((sys) => (only ? only.includes(sys.key) : !sys.optional))
  // socket.io per event cannot keep up even at the fixed load, and its backlog
  // would keep the machine busy while the others are measured: it runs alone,
  // one window (its backlog outlasts any pause between windows).
  const together = chosen.filter((sys) => sys.key !== 'sio-event')
  const alone = chosen.filter((sys) => sys.key === 'sio-event')
  const r = {}
  if (together.length > 0) Object.assign(r, await measureSystems(together, redisUrl, ctx.log))
  if (alone.length > 0) Object.assign(r, await measureSystems(alone, redisUrl, ctx.log, 1))
  const rows = [
    {
      name: 'load average (1 min) at start',
      value: load,
      unit: '',
      note: `${os.cpus().length} cores; other processes compete for them`,
    },
  ]
  const k = (v) => Math.round(v)
  for (const sys of SYSTEMS) {
    const m = r[sys.key]
    if (!m) continue
    rows.push(
      {
        name: `${sys.name}: delivered @2k ev/s`,
        value: k(m.fixed.delivered),
        unit: 'events/s',
        note: `${N} clients; ${k(m.fixed.perClient)} of ${k(m.fixed.offered)} ev/s each`,
      },
      {
        name: `${sys.name}: CPU per delivery @2k`,
        value: m.fixed.cpuPerDelivery,
        unit: 'µs',
        note: `median of ${m.fixed.windows} windows (${m.fixed.cpuMin.toFixed(3)}–${m.fixed.cpuMax.toFixed(3)}); ${m.fixed.cpuCores.toFixed(2)} cores; RSS ${k(m.fixed.rssMiB)} MiB`,
      },
      { name: `${sys.name}: latency p50 @2k`, value: m.fixed.p50, unit: 'ms' },
      {
        name: `${sys.name}: latency p99 @2k`,
        value: m.fixed.p99,
        unit: 'ms',
        ...(sys.key === 'verisim' ? { target: '≤ 150' } : {}),
      },
      {
        name: `${sys.name}: saturated (sustained)`,
        value: k(m.saturated.sustained),
        unit: 'events/s',
        note:
          m.saturated.sustained > 0
            ? `at ${k(m.saturated.offered)} ev/s offered; p99 ${m.saturated.p99} ms; server ${m.saturated.cpuCores.toFixed(2)} cores, ` +
              `clients ${m.saturated.clientCores.toFixed(2)}, producer + Redis ${(m.saturated.producerCores + m.saturated.redisCores).toFixed(2)}` +
              (Number.isFinite(m.upTo) ? `; behind at ${k(m.upTo)} ev/s` : '')
            : 'behind already at the fixed load',
      },
      {
        name: `${sys.name}: peak delivered`,
        value: k(m.peak.delivered),
        unit: 'events/s',
        note: `at ${k(m.peak.offered)} ev/s offered; p99 ${m.peak.p99} ms`,
      },
    )
  }
  const v = r.verisim
  if (v && r.bare) {
    rows.push({
      name: 'verisim / bare ws: saturated',
      value: v.saturated.sustained / r.bare.saturated.sustained,
      unit: '×',
      target: '≥ 0.8',
    })
    rows.push({
      name: 'verisim / bare ws: CPU per delivery @2k',
      value: v.fixed.cpuPerDelivery / r.bare.fixed.cpuPerDelivery,
      unit: '×',
      target: '≤ 1.25',
    })
  }
  if (v && r['sio-batch']) {
    rows.push({
      name: 'verisim / socket.io batched: saturated',
      value: v.saturated.sustained / r['sio-batch'].saturated.sustained,
      unit: '×',
      target: '≥ 1.1',
    })
  }
  if (r.bare && r['bare-batch']) {
    rows.push({
      name: 'bare ws / bare ws fed by batches: saturated',
      value: r.bare.saturated.sustained / r['bare-batch'].saturated.sustained,
      unit: '×',
      note: 'what one stream entry per event costs against one per batch',
    })
  }
  if (v && r['sio-event']) {
    rows.push({
      name: 'verisim / socket.io per event: peak delivered',
      value: v.peak.delivered / r['sio-event'].peak.delivered,
      unit: '×',
      note: 'socket.io per event never keeps up with 2k ev/s × 1000',
    })
  }
  return rows
}
