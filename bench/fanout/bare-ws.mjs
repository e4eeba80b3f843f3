/**
 * Baseline (a): a bare `ws` server. Reads the same channel streams with plain
 * XREAD, collects 100 ms windows, serializes each window once into the same
 * `{"type":"batch","events":[…]}` frame as the gateway (one Buffer) and
 * writes it to every client. No topics, ordering across channels, resume,
 * backpressure or liveness: the floor of what fan-out can cost.
 *
 * argv: <redisUrl> <prefix> <port>
 */
import http from 'node:http'
import { Redis } from 'ioredis'
import { WebSocketServer } from 'ws'
import { createKeys } from '@verisim/bus'
import { CHANNELS, WORLD } from './common.mjs'
import './cpu-probe.mjs'

const [redisUrl, prefix, port] = process.argv.slice(2)
const keys = createKeys(prefix, WORLD)
const streamKeys = CHANNELS.map((c) => keys.channel(c))
const redis = new Redis(redisUrl)
const server = http.createServer()
const wss = new WebSocketServer({ server, perMessageDeflate: false })

let window = []
setInterval(() => {
  if (window.length === 0) return
  const frame = Buffer.from(`{"type":"batch","events":[${window.join(',')}]}`)
  window = []
  for (const ws of wss.clients)
    if (ws.readyState === 1) ws.send(frame, { binary: false, compress: false })
}, 100)

async function read() {
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
void read()
server.listen(Number(port), '127.0.0.1', () => process.send?.({ type: 'listening' }))
