/**
 * Baseline (a): a bare `ws` server. Reads the same channel streams with plain
 * XREAD, collects 100 ms windows, serializes each window once into the same
 * `{"type":"batch","events":[…]}` frame as the gateway (one Buffer) and
 * writes it to every client. No topics, ordering across channels, resume,
 * backpressure or liveness: the floor of what fan-out can cost.
 *
 * Source `batches` (diagnostic, `VERISIM_BENCH_ONLY=bare-batch`): the same
 * server fed the way the Socket.IO adapter is fed, one stream entry per 100 ms
 * window written by the producer, sent on arrival. Side by side with `bare` it
 * shows what reading every event as its own stream entry costs the machine.
 *
 * argv: <redisUrl> <prefix> <port> [source: streams|batches]
 */
import http from 'node:http'
import { Redis } from 'ioredis'
import { WebSocketServer } from 'ws'
import { createKeys } from '@verisim/bus'
import { CHANNELS, WORLD, batchesKey } from './common.mjs'
import './cpu-probe.mjs'

const [redisUrl, prefix, port, source = 'streams'] = process.argv.slice(2)
const redis = new Redis(redisUrl)
const server = http.createServer()
const wss = new WebSocketServer({ server, perMessageDeflate: false })

/** `events`: envelopes joined by commas. */
function broadcast(events) {
  const frame = Buffer.from(`{"type":"batch","events":[${events}]}`)
  for (const ws of wss.clients)
    if (ws.readyState === 1) ws.send(frame, { binary: false, compress: false })
}

async function readStreams() {
  const keys = createKeys(prefix, WORLD)
  const streamKeys = CHANNELS.map((c) => keys.channel(c))
  let window = []
  setInterval(() => {
    if (window.length === 0) return
    broadcast(window.join(','))
    window = []
  }, 100)
  const last = await Promise.all(
    streamKeys.map(async (k) => (await redis.xrevrange(k, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0'),
  )
  for (;;) {
    const reply = await redis.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', ...streamKeys, ...last)
    if (!reply) continue
    for (const [key, entries] of reply) {
      const i = streamKeys.indexOf(key)
      for (const [id, fields] of entries) {
        last[i] = id
        window.push(fields[fields.indexOf('e') + 1])
      }
    }
  }
}

async function readBatches() {
  let last = '$'
  for (;;) {
    const reply = await redis.xread(
      'COUNT',
      100,
      'BLOCK',
      1000,
      'STREAMS',
      batchesKey(prefix),
      last,
    )
    if (!reply) continue
    for (const [, entries] of reply) {
      for (const [id, fields] of entries) {
        last = id
        broadcast(fields[fields.indexOf('e') + 1])
      }
    }
  }
}

void (source === 'batches' ? readBatches() : readStreams())
server.listen(Number(port), '127.0.0.1', () => process.send?.({ type: 'listening' }))
