/**
 * A generator killed and started again: how long until it publishes (issue 14:
 * within 3 s). Runs the built generator (services/generator/dist/main.js) under
 * a key prefix of its own with the tutoring world's default warm-up (240 h) at
 * 600×, lets it run VERISIM_BENCH_RESTART_RUN_S (default 75 s: past its first
 * periodic snapshot), kills it with SIGKILL and starts it again, timing from the
 * new process's spawn to the first event it writes (an id newer than the
 * spawn). Then, side by side in the same run, the baseline: the same restart
 * from the same snapshot with its state removed (a version-1 snapshot, what the
 * generator stored before engine state snapshots), which re-simulates the run
 * from its start.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { Redis } from 'ioredis'
import { createKeys, deletePrefix } from '@verisim/bus'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUN_S = Number(process.env.VERISIM_BENCH_RESTART_RUN_S ?? 75)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function startGenerator(env) {
  const child = spawn(process.execPath, [join(root, 'services/generator/dist/main.js')], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  return { child, log: () => out }
}

const kill = (child) =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', resolve)
    child.kill('SIGKILL')
  })

/** The newest entry id over the world's channel streams (ms part), or 0. */
async function newestMs(redis, keys, channels) {
  let best = 0
  for (const ch of channels) {
    const [e] = await redis.xrevrange(keys.channel(ch), '+', '-', 'COUNT', 1)
    if (e) best = Math.max(best, Number(e[0].split('-')[0]))
  }
  return best
}

/** Spawns the generator and waits for its first event newer than the spawn: ms, and the restore log line. */
async function restart(redis, keys, channels, env) {
  const t0 = Date.now()
  const g = startGenerator(env)
  const deadline = t0 + 120_000
  while (Date.now() < deadline) {
    if ((await newestMs(redis, keys, channels)) > t0) {
      const ms = Date.now() - t0
      const line = g
        .log()
        .split('\n')
        .find((l) => l.includes('continuing the previous run'))
      return { g, ms, restore: line ? JSON.parse(line) : null }
    }
    if (g.child.exitCode !== null) throw new Error(`generator exited:\n${g.log().slice(-2000)}`)
    await sleep(20)
  }
  throw new Error(`no event 120 s after the restart:\n${g.log().slice(-2000)}`)
}

export default async function run(ctx) {
  const url = await ctx.redisUrl()
  const redis = new Redis(url)
  const prefix = `vsbench-restart-${randomBytes(3).toString('hex')}`
  const keys = createKeys(prefix, 'tutoring')
  const env = {
    REDIS_URL: url,
    VERISIM_PREFIX: prefix,
    VERISIM_WORLD: 'tutoring',
    VERISIM_SPEED: '600',
    GENERATOR_PORT: '0',
    VERISIM_HISTORY_DAYS: '2',
  }
  let g = null
  try {
    ctx.log(`generator: warm-up 240 h, then ${RUN_S} s at 600×`)
    g = startGenerator(env)
    const t0 = Date.now()
    while (!g.log().includes('generator loop started')) {
      if (g.child.exitCode !== null) throw new Error(`generator exited:\n${g.log().slice(-2000)}`)
      if (Date.now() - t0 > 180_000) throw new Error('generator not started after 180 s')
      await sleep(200)
    }
    const firstStartMs = Date.now() - t0
    await sleep(RUN_S * 1000)
    const catalog = JSON.parse((await redis.get(keys.catalog)) ?? '[]')
    const channels = [...new Set(catalog.map((c) => c.channel))]

    await kill(g.child)
    const snap = await redis.hgetallBuffer(keys.snapshot)
    const engine = snap.engine
    const doc = JSON.parse(gunzipSync(engine).toString('utf8'))
    ctx.log(
      `killed after ${RUN_S} s; snapshot of ${new Date(doc.now).toISOString()}: ${(engine.length / 1e6).toFixed(2)} MB`,
    )
    const fast = await restart(redis, keys, channels, env)
    g = fast.g
    ctx.log(`restarted from the state snapshot: publishing after ${fast.ms} ms`)
    await sleep(5000)

    // The baseline: the newest snapshot without its state (version 1: the journal only).
    await kill(g.child)
    const latest = await redis.hgetallBuffer(keys.snapshot)
    const v2 = JSON.parse(gunzipSync(latest.engine).toString('utf8'))
    const v1 = { ...v2, v: 1 }
    delete v1.state
    delete v1.stateError
    await redis.hset(keys.snapshot, 'engine', Buffer.from(JSON.stringify(v1)))
    const slow = await restart(redis, keys, channels, env)
    g = slow.g
    ctx.log(`restarted from the journal-only snapshot: publishing after ${slow.ms} ms`)
    await kill(g.child)

    const simDays = (doc.now - doc.start) / 86_400_000
    return [
      { name: 'first start (warm-up 240 h)', value: firstStartMs, unit: 'ms' },
      {
        name: 'snapshot size (gzipped)',
        value: engine.length / 1e6,
        unit: 'MB',
        note: `${simDays.toFixed(1)} simulated days after the warm-up start`,
      },
      {
        name: 'restart → publishing, state snapshot',
        value: fast.ms,
        unit: 'ms',
        target: '≤ 3,000',
        note: `restore ${fast.restore?.ms ?? '?'} ms (${fast.restore?.from ?? '?'})`,
      },
      {
        name: 'restart → publishing, journal-only snapshot (before)',
        value: slow.ms,
        unit: 'ms',
        note: `restore ${slow.restore?.ms ?? '?'} ms: the run re-simulated from its start`,
      },
    ]
  } finally {
    if (g) await kill(g.child)
    await deletePrefix(redis, prefix).catch(() => undefined)
    redis.disconnect()
  }
}
