/**
 * Benchmark clients (child process): N WebSocket connections to one server,
 * made as cheap as a client can be so the figures measure the server. Each
 * connection is a raw TCP socket with a minimal RFC 6455 reader: it reads frame
 * headers, classifies a frame by its first bytes and counts its events from its
 * length (fixed-size events), skipping the payload without copying or
 * parsing it. Every SAMPLE-th frame (over all connections) is kept whole and
 * the write time of each of its events is read from its id at a known offset,
 * for latency.
 *
 * argv: <url> <n> <protocol: verisim|bare|sio>
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { EVENT_BYTES, LAYOUT, serve } from './common.mjs'

const [url, nArg, protocol] = process.argv.slice(2)
const N = Number(nArg)
const SAMPLE = 16
const STRIDE = EVENT_BYTES + 1
const MAX_MS = 30_000
/** Bytes of a payload kept to classify it. */
const HEAD = 24

let ready = 0
let closed = 0
const closeCodes = {}
let deliveries = 0
/** Deliveries since start (never reset): the bench waits on it for a backlog to drain. */
let total = 0
let frames = 0
let bad = 0
let framesSeen = 0
let hist = new Uint32Array(MAX_MS + 1)

const B = (s) => Buffer.from(s)
const P = {
  batch: B('{"type":"batch"'),
  subscribed: B('{"type":"subscribed"'),
  ping: B('{"type":"ping"'),
  sioBatch: B('42["batch"'),
  sioEvent: B('42["event"'),
}
const startsWith = (buf, p) =>
  buf.length >= p.length && buf.compare(p, 0, p.length, 0, p.length) === 0

/** A masked client text frame. */
function textFrame(text) {
  const payload = Buffer.from(text)
  if (payload.length > 125) throw new Error('client frames here are short')
  const mask = randomBytes(4)
  const out = Buffer.alloc(6 + payload.length)
  out[0] = 0x81
  out[1] = 0x80 | payload.length
  mask.copy(out, 2)
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i & 3]
  return out
}

function sample(buf, first, count, now) {
  for (let i = 0; i < count; i++) {
    const at = first + i * STRIDE + 7 // after {"id":"
    let ms = 0
    for (let j = 0; j < 13; j++) ms = ms * 10 + (buf[at + j] - 48)
    if (buf[at + 13] !== 45) {
      bad++
      return
    }
    hist[Math.min(MAX_MS, Math.max(0, now - ms))]++
  }
}

function countBatch(len, layout) {
  const n = (len - layout.overhead) / STRIDE
  if (!Number.isInteger(n) || n <= 0) {
    bad++
    return 0
  }
  deliveries += n
  total += n
  frames++
  return n
}

function connect() {
  const u = new URL(url)
  const path = protocol === 'sio' ? '/socket.io/?EIO=4&transport=websocket' : u.pathname
  const sock = net.connect(Number(u.port), u.hostname)
  sock.setNoDelay(true)
  let isReady = false
  const markReady = () => {
    if (!isReady) {
      isReady = true
      ready++
    }
  }
  const send = (text) => sock.write(textFrame(text))

  // Handshake, then frames.
  let handshake = Buffer.alloc(0)
  let upgraded = false
  // Frame state
  let hdr = Buffer.alloc(14)
  let hdrHave = 0
  let hdrNeed = 2
  let opcode = 0
  let left = 0 // payload bytes still to come
  let len = 0
  let head = Buffer.alloc(HEAD)
  let headHave = 0
  let whole = null // sampled frame: the full payload
  let wholeAt = 0
  let inPayload = false

  function onFrame() {
    const h = head.subarray(0, headHave)
    if (opcode === 0x8) {
      const code = headHave >= 2 ? h.readUInt16BE(0) : 1005
      closeCodes[code] = (closeCodes[code] ?? 0) + 1
      sock.end()
      return
    }
    if (opcode === 0x9) return // servers here never ping at the WebSocket level
    if (opcode !== 0x1) {
      bad++
      return
    }
    if (protocol === 'verisim' || protocol === 'bare') {
      if (protocol === 'bare' || startsWith(h, P.batch)) {
        const n = countBatch(len, LAYOUT.batch)
        if (whole && n) sample(whole, LAYOUT.batch.prefix, n, Date.now())
      } else if (startsWith(h, P.subscribed)) markReady()
      else if (startsWith(h, P.ping)) send('{"type":"pong"}')
    } else if (startsWith(h, P.sioBatch)) {
      const n = countBatch(len, LAYOUT.sioBatch)
      if (whole && n) sample(whole, LAYOUT.sioBatch.prefix, n, Date.now())
    } else if (startsWith(h, P.sioEvent)) {
      if (len - LAYOUT.sioEvent.overhead !== EVENT_BYTES) bad++
      deliveries++
      total++
      frames++
      if (whole) sample(whole, LAYOUT.sioEvent.prefix, 1, Date.now())
    } else if (h[0] === 48)
      send('40') // engine.io open → connect to the main namespace
    else if (h[0] === 52 && h[1] === 48)
      markReady() // "40…": namespace connected
    else if (len === 1 && h[0] === 50) send('3') // engine.io ping → pong
  }

  function startPayload() {
    inPayload = true
    headHave = 0
    const keep = opcode === 0x1 && len > HEAD && ++framesSeen % SAMPLE === 0
    whole = keep ? Buffer.allocUnsafe(len) : null
    wholeAt = 0
    if (left === 0) finishPayload()
  }
  function finishPayload() {
    inPayload = false
    onFrame()
    hdrHave = 0
    hdrNeed = 2
  }

  function frames_(chunk) {
    let i = 0
    while (i < chunk.length) {
      if (!inPayload) {
        hdr[hdrHave++] = chunk[i++]
        if (hdrHave < hdrNeed) continue
        if (hdrHave === 2) {
          opcode = hdr[0] & 0x0f
          const l7 = hdr[1] & 0x7f
          if (l7 === 126) hdrNeed = 4
          else if (l7 === 127) hdrNeed = 10
          else {
            len = left = l7
            startPayload()
            continue
          }
          if (hdrHave < hdrNeed) continue
        }
        len = left = hdrNeed === 4 ? hdr.readUInt16BE(2) : Number(hdr.readBigUInt64BE(2))
        startPayload()
        continue
      }
      const take = Math.min(left, chunk.length - i)
      if (headHave < HEAD) {
        const h = Math.min(HEAD - headHave, take)
        chunk.copy(head, headHave, i, i + h)
        headHave += h
      }
      if (whole) {
        chunk.copy(whole, wholeAt, i, i + take)
        wholeAt += take
      }
      i += take
      left -= take
      if (left === 0) finishPayload()
    }
  }

  sock.on('connect', () => {
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
  })
  sock.on('data', (chunk) => {
    if (upgraded) return frames_(chunk)
    handshake = Buffer.concat([handshake, chunk])
    const end = handshake.indexOf('\r\n\r\n')
    if (end === -1) return
    if (!handshake.subarray(0, 12).toString().includes('101')) {
      bad++
      sock.destroy()
      return
    }
    upgraded = true
    if (protocol === 'verisim') send('{"type":"subscribe","topics":["*"]}')
    if (protocol === 'bare') markReady()
    const rest = handshake.subarray(end + 4)
    handshake = null
    if (rest.length > 0) frames_(rest)
  })
  sock.on('close', () => {
    closed++
    if (isReady) ready--
    isReady = false
  })
  sock.on('error', () => undefined)
  return sock
}

let sockets = []
/** Opens connections until N are open (again, after some were closed), in steps of 100. */
async function fill() {
  sockets = sockets.filter((s) => !s.destroyed)
  while (sockets.length < N) {
    for (let j = 0; j < 100 && sockets.length < N; j++) sockets.push(connect())
    await new Promise((r) => setTimeout(r, 20))
  }
  const deadline = Date.now() + 30_000
  while (ready < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  return { ready }
}
serve({
  connect: fill,
  /** Replaces connections the server closed (e.g. as slow consumers). */
  reconnect: fill,
  async reset() {
    deliveries = 0
    frames = 0
    bad = 0
    hist = new Uint32Array(MAX_MS + 1)
    return {}
  },
  async stats() {
    const cpu = process.cpuUsage()
    return {
      ready,
      closed,
      closeCodes,
      deliveries,
      total,
      frames,
      bad,
      hist: Array.from(hist),
      cpu,
    }
  },
  async close() {
    for (const s of sockets) s.destroy()
    return {}
  },
})
process.send({ type: 'ready' })
