/**
 * History through the gateway: a 7-day, all-50-streams `GET /api/simulation/history`
 * on loopback against a running generator + gateway (real processes, their own
 * key prefix), after the run has gone live for a simulated day, so the window
 * joins baseline and live buckets. p50/p95 over 200 sequential requests per
 * interval (12 h default, 1 h, 15 min), after 10 warm-up requests; the first
 * (cold) request is reported apart. Targets (issue 5): p95 < 100 ms (the seed
 * asks < 500 ms).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { deletePrefix, freePort } from '@verisim/bus'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUNS = 200
const WARM = 10

function start(name, env) {
  const out = []
  const child = spawn(process.execPath, [join(root, 'services', name, 'dist', 'main.js')], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (d) => out.push(d.toString()))
  child.stderr.on('data', (d) => out.push(d.toString()))
  return {
    out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

export default async function run(ctx) {
  const redisUrl = await ctx.redisUrl()
  const prefix = `b${randomBytes(4).toString('hex')}`
  const base = {
    REDIS_URL: redisUrl,
    VERISIM_PREFIX: prefix,
    HOST: '127.0.0.1',
    VERISIM_WARMUP_HOURS: '0',
    VERISIM_SPEED: '3600',
  }
  const genPort = await freePort()
  const gwPort = await freePort()
  const gen = start('generator', { ...base, GENERATOR_PORT: String(genPort) })
  // 630 requests from one client: past the per-client limit of expensive reads.
  const gw = start('gateway', { ...base, PORT: String(gwPort), VERISIM_RATE_LIMIT_MAX: '0' })
  const url = `http://127.0.0.1:${gwPort}`
  const redis = new Redis(redisUrl)
  try {
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${genPort}/health/ready`)).ok,
      60_000,
      'generator',
    ).catch((e) => {
      throw new Error(`${e.message}\n${gen.out.join('')}`)
    })
    await waitFor(async () => (await fetch(`${url}/health/ready`)).ok, 30_000, 'gateway').catch(
      (e) => {
        throw new Error(`${e.message}\n${gw.out.join('')}`)
      },
    )
    ctx.log('services up; letting a simulated day go live')
    const state = async () => await (await fetch(`${url}/api/simulation/state`)).json()
    const s0 = await state()
    const t0 = Date.parse(s0.startedAt)
    await waitFor(
      async () => Date.parse((await state()).currentSimulationTime) > t0 + 86_400_000,
      60_000,
      'a live day',
    )
    await fetch(`${url}/api/simulation/pause`, { method: 'POST' })
    const rows = []
    for (const interval of ['12h', '1h', '15m']) {
      const q = new URLSearchParams({
        start: new Date(
          Date.parse((await state()).currentSimulationTime) - 7 * 86_400_000,
        ).toISOString(),
        end: 'now',
        interval,
      })
      const times = []
      let bytes = 0
      let points = 0
      for (let i = 0; i < WARM + RUNS; i++) {
        const a = performance.now()
        const r = await fetch(`${url}/api/simulation/history?${q}`)
        const body = await r.text()
        const ms = performance.now() - a
        if (!r.ok) throw new Error(`history ${interval}: ${r.status} ${body.slice(0, 300)}`)
        if (i === 0) {
          bytes = body.length
          const j = JSON.parse(body)
          points = Object.values(j.streams).reduce((n, p) => n + p.length, 0)
          rows.push({
            name: `7-day history @${interval}: first request`,
            value: +ms.toFixed(1),
            unit: 'ms',
            note: `${points} points, ${(bytes / 1024).toFixed(0)} KiB`,
          })
        }
        if (i >= WARM) times.push(ms)
      }
      rows.push(
        { name: `7-day history @${interval}: p50`, value: +pct(times, 0.5).toFixed(1), unit: 'ms' },
        {
          name: `7-day history @${interval}: p95`,
          value: +pct(times, 0.95).toFixed(1),
          unit: 'ms',
          target: '< 100',
        },
      )
      ctx.log(
        `${interval}: p50 ${pct(times, 0.5).toFixed(1)} ms, p95 ${pct(times, 0.95).toFixed(1)} ms`,
      )
    }
    return rows
  } finally {
    await Promise.all([gw.stop(), gen.stop()])
    await deletePrefix(redis, prefix).catch(() => undefined)
    redis.disconnect()
  }
}
