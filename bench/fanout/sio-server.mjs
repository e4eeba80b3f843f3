/**
 * Baseline (b): Socket.IO 4 with @socket.io/redis-streams-adapter. The
 * producer emits through its own Socket.IO server on the same adapter stream;
 * this one receives the broadcasts and writes them to its clients, the way a
 * Socket.IO deployment fans out across servers.
 *
 * argv: <redisUrl> <prefix> <port>
 */
import http from 'node:http'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { createAdapter } from '@socket.io/redis-streams-adapter'
import './cpu-probe.mjs'

const [redisUrl, prefix, port] = process.argv.slice(2)
const redis = new Redis(redisUrl)
const server = http.createServer()
new Server(server, {
  adapter: createAdapter(redis, { streamName: `${prefix}:sio`, maxLen: 200_000 }),
  transports: ['websocket'],
  perMessageDeflate: false,
})
server.listen(Number(port), '127.0.0.1', () => process.send?.({ type: 'listening' }))
