/**
 * Benchmark producer (child process): makes fixed-size events at a set rate and
 * either XADDs them to the world's channel streams in id order (what the
 * generator does; the gateway and the bare ws server read those), or emits them
 * through a Socket.IO server with the Redis Streams adapter (one `batch` emit
 * per 100 ms, or one emit per event), or (diagnostic) XADDs one entry per
 * 100 ms holding the window's events to a single stream, the way the Socket.IO
 * adapter carries a batch.
 *
 * argv: <redisUrl> <prefix> <mode: streams|sio-batch|sio-event|batches>
 */
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { createAdapter } from '@socket.io/redis-streams-adapter'
import { createIdSequence, createKeys, createStreamWriter, ensureEpoch } from '@verisim/bus'
import { CATALOG, CHANNELS, WORLD, batchesKey, envelope, serve } from './common.mjs'

const [redisUrl, prefix, mode] = process.argv.slice(2)
const redis = new Redis(redisUrl)
const keys = createKeys(prefix, WORLD)
const ids = createIdSequence()
const TICK_MS = 10
const BATCH_MS = 100

let io = null
let writer = null
if (mode === 'streams') {
  writer = createStreamWriter({ redis, keys, maxLen: 200_000 })
  await redis.set(keys.catalog, JSON.stringify(CATALOG))
  await ensureEpoch(redis, keys, '0-0')
} else if (mode !== 'batches') {
  io = new Server({
    adapter: createAdapter(redis, { streamName: `${prefix}:sio`, maxLen: 200_000 }),
  })
}

let rate = 0
let written = 0
let started = 0
let madeAtStart = 0
let channelIx = 0
let pendingBatch = []
let lastBatchAt = Date.now()

function make(n, now) {
  const iso = new Date(now).toISOString()
  const out = []
  for (let i = 0; i < n; i++) {
    const channel = CHANNELS[channelIx++ % CHANNELS.length]
    const id = ids.next(now)
    out.push({
      id,
      channel,
      stream: `${channel}.metric`,
      anomalyFlag: 'normal',
      json: envelope(id, channel, iso),
    })
  }
  return out
}

async function tick() {
  if (rate > 0) {
    const now = Date.now()
    const due = Math.min(
      Math.floor(((now - started) * rate) / 1000) - (written - madeAtStart),
      Math.ceil(rate / 10),
    )
    if (due > 0) {
      const events = make(due, now)
      written += due
      if (mode === 'streams') await writer.write(events)
      else if (mode === 'batches') for (const e of events) pendingBatch.push(e.json)
      else if (mode === 'sio-event') for (const e of events) io.emit('event', JSON.parse(e.json))
      else for (const e of events) pendingBatch.push(JSON.parse(e.json))
    }
    if ((mode === 'sio-batch' || mode === 'batches') && now - lastBatchAt >= BATCH_MS) {
      lastBatchAt = now
      const batch = pendingBatch
      pendingBatch = []
      if (batch.length > 0 && mode === 'sio-batch') io.emit('batch', batch)
      if (batch.length > 0 && mode === 'batches') {
        await redis.xadd(batchesKey(prefix), 'MAXLEN', '~', '1000', '*', 'e', batch.join(','))
      }
    }
  }
  setTimeout(
    () => void tick().catch((err) => process.send({ type: 'log', msg: String(err) })),
    TICK_MS,
  )
}
void tick()

serve({
  async rate(msg) {
    rate = msg.rate
    started = Date.now()
    madeAtStart = written
    return { written }
  },
  async stats() {
    return { written, cpu: process.cpuUsage() }
  },
})
process.send({ type: 'ready' })
