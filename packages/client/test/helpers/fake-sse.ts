/**
 * An in-process stand-in for the gateway's `GET /sse` (services/gateway/src/routes/sse):
 * `?topics=a,b`, resume with `?lastId=` or `Last-Event-ID`, `: connected` and
 * comment heartbeats, `event: catchup` for a lost resume point, JSON errors
 * before streaming. Can write each message in tiny pieces across ticks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { makeEvent, matches, type Envelope } from './fake-gateway.js'

interface Stream {
  res: ServerResponse
  topics: string[]
  cursor: number
}

export interface SseRequest {
  url: URL
  lastEventIdHeader: string | undefined
}

function sseMessage(e: Envelope): string {
  return `id: ${e.id}\nevent: ${e.stream}\ndata: ${JSON.stringify(e)}\n\n`
}

export class FakeSse {
  readonly log: Envelope[] = []
  readonly requests: SseRequest[] = []
  readonly streams = new Set<Stream>()
  lostReason: 'too_old' | 'epoch_changed' | null = null
  /** Write every message in pieces of this many bytes, a tick apart (0: whole). */
  pieceBytes = 0
  /** Answer requests with this instead of a stream (then the knob resets if `once`). */
  refuse: { status: number; code: string; message: string; once: boolean } | null = null
  #next = 0
  #writing: Promise<void> = Promise.resolve()

  private constructor(readonly server: Server) {
    server.on('request', (req, res) => this.#request(req, res))
  }

  static async start(): Promise<FakeSse> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return new FakeSse(server)
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/sse`
  }

  get last(): SseRequest {
    const r = this.requests.at(-1)
    if (!r) throw new Error('no request yet')
    return r
  }

  publish(n: number): Envelope[] {
    const fresh: Envelope[] = []
    for (let i = 0; i < n; i++) fresh.push(makeEvent(this.#next++))
    this.log.push(...fresh)
    for (const s of this.streams) this.#flush(s)
    return fresh
  }

  heartbeat(): void {
    for (const s of this.streams) this.#write(s.res, ': heartbeat\n\n')
  }

  /** Ends every stream: cleanly (`end`) or abruptly (`destroy`). */
  drop(how: 'end' | 'destroy'): void {
    for (const s of this.streams) {
      if (how === 'end') s.res.end()
      else s.res.socket?.destroy()
    }
    this.streams.clear()
  }

  /** Resolves when every queued piece was written. */
  written(): Promise<void> {
    return this.#writing
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const header = req.headers['last-event-id']
    this.requests.push({ url, lastEventIdHeader: Array.isArray(header) ? header[0] : header })
    if (this.refuse) {
      const { status, code, message, once } = this.refuse
      if (once) this.refuse = null
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code, message } }))
      return
    }
    const topics = (url.searchParams.get('topics') ?? '*').split(',')
    if (topics.some((t) => t.startsWith('bogus'))) {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          error: { code: 'VS_GW_UNKNOWN_TOPIC', message: `unknown topic ${topics.join(',')}` },
        }),
      )
      return
    }
    const lastId = (Array.isArray(header) ? header[0] : header) || url.searchParams.get('lastId')
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.flushHeaders()
    this.#write(res, ': connected\n\n')
    const stream: Stream = { res, topics, cursor: this.log.length }
    if (lastId) {
      if (this.lostReason) {
        this.#write(res, `event: catchup\ndata: ${JSON.stringify({ reason: this.lostReason })}\n\n`)
      } else {
        const from = this.log.findIndex((e) => e.id === lastId)
        stream.cursor = from === -1 ? this.log.length : from + 1
        this.#flush(stream)
      }
    }
    this.streams.add(stream)
    res.on('close', () => this.streams.delete(stream))
  }

  #flush(s: Stream): void {
    let out = ''
    for (; s.cursor < this.log.length; s.cursor++) {
      const e = this.log[s.cursor] as Envelope
      if (matches(s.topics, e)) out += sseMessage(e)
    }
    if (out) this.#write(s.res, out)
  }

  #write(res: ServerResponse, text: string): void {
    if (this.pieceBytes === 0) {
      res.write(text)
      return
    }
    const bytes = Buffer.from(text)
    const size = this.pieceBytes
    this.#writing = this.#writing.then(async () => {
      for (let i = 0; i < bytes.length; i += size) {
        if (res.destroyed) return
        res.write(bytes.subarray(i, i + size))
        await new Promise((r) => setTimeout(r, 0))
      }
    })
  }

  async close(): Promise<void> {
    this.drop('destroy')
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
