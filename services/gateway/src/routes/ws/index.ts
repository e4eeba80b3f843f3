/**
 * `GET /ws` — the WebSocket protocol of CONTRACT.md: subscribe / unsubscribe
 * with resume, 100 ms batches, ping/pong liveness, control and errors. Every
 * frame is validated; a bad one gets an `error` naming the problem and the
 * socket stays open.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import {
  parseClientFrame,
  ProtocolErrorCode,
  UnknownTopicError,
  type ClientMessage,
  type ErrorMessage,
} from '@verisim/schema'
import { readEpoch } from '@verisim/bus'
import { CloseCode, type Sink } from '../../fanout.js'
import { catchupEndTime, createSession } from '../../session.js'

const ws: FastifyPluginAsync = async (app) => {
  app.get('/ws', { websocket: true }, (socket: WebSocket, req) => {
    const { config, metrics } = app
    const sink: Sink = {
      kind: 'ws',
      write: (chunk) => socket.send(chunk),
      bufferedBytes: () => socket.bufferedAmount,
      close: (code, reason) => socket.close(code, reason),
    }
    const session = createSession(app, sink)
    metrics.clients.inc({ transport: 'ws' })
    const query = req.query as Record<string, unknown>
    let authorized = config.adminToken === null || query.token === config.adminToken
    let lastHeard = Date.now()
    let queue: Promise<void> = Promise.resolve()

    const send = (msg: object) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg))
    }
    const fail = (code: ErrorMessage['code'], message: string, requestId?: string) => {
      metrics.protocolErrors.inc({ code })
      send({ type: 'error', code, message, ...(requestId === undefined ? {} : { requestId }) })
    }

    async function handle(msg: ClientMessage): Promise<void> {
      switch (msg.type) {
        case 'subscribe': {
          if (app.streams.notReadyReason() !== null) {
            return fail(ProtocolErrorCode.internal, `gateway not ready: ${app.streams.notReadyReason()}`)
          }
          if (msg.lastId !== undefined && msg.lastTimestamp !== undefined) {
            return fail(
              ProtocolErrorCode.invalidMessage,
              'invalid "subscribe" message: give either "lastId" or "lastTimestamp", not both',
            )
          }
          let topics: string[]
          try {
            topics = session.subscribe(msg.topics)
          } catch (err) {
            if (err instanceof UnknownTopicError) return fail(ProtocolErrorCode.unknownTopic, err.message)
            throw err
          }
          const point =
            msg.lastId !== undefined
              ? { lastId: msg.lastId }
              : msg.lastTimestamp !== undefined
                ? { lastTimestamp: msg.lastTimestamp }
                : null
          // Hold live events before the first await, so none slips between the
          // catch-up window and live delivery.
          if (point) session.hold()
          const epoch = await readEpoch(app.redis, app.streams.keys)
          send({ type: 'subscribed', topics, epoch: epoch?.epoch ?? null, lastId: app.streams.frontier() })
          if (point) {
            await session.resume(point, {
              page(events, lastId, complete) {
                if (socket.readyState !== socket.OPEN) return
                const head = { catchUpEndTime: catchupEndTime(events), lastId, complete }
                socket.send(
                  `{"type":"catchup","events":[${events.map((e) => e.json).join(',')}],` +
                    JSON.stringify(head).slice(1),
                )
              },
              lost(reason) {
                send({ type: 'catchup', events: [], reason })
              },
            })
          }
          return
        }
        case 'unsubscribe':
          send({ type: 'unsubscribed', topics: session.unsubscribe(msg.topics) })
          return
        case 'ping':
          send({ type: 'pong', ...(msg.ts === undefined ? {} : { ts: msg.ts }) })
          return
        case 'pong':
          return
        case 'auth':
          if (config.adminToken === null || msg.token === config.adminToken) {
            authorized = true
            send({ type: 'ack', requestId: 'auth', success: true, result: { authorized: true } })
          } else {
            fail(ProtocolErrorCode.unauthorized, 'invalid token; control messages stay refused')
          }
          return
        case 'control': {
          if (!authorized) {
            return fail(
              ProtocolErrorCode.unauthorized,
              'control needs the admin token: connect with ?token=<ADMIN_TOKEN> or send {"type":"auth","token":"…"} first',
              msg.requestId,
            )
          }
          if (msg.action === 'get_state') {
            const raw = await app.redis.get(app.streams.keys.state)
            send({ type: 'ack', requestId: msg.requestId, success: raw !== null, result: raw ? JSON.parse(raw) : null })
            return
          }
          return fail(
            ProtocolErrorCode.notSupported,
            `control action "${msg.action}" is not available in this version of the gateway; available: get_state`,
            msg.requestId,
          )
        }
      }
    }

    socket.on('message', (data, isBinary) => {
      lastHeard = Date.now()
      if (isBinary) {
        fail(ProtocolErrorCode.binaryFrame, 'binary frames are not accepted; send JSON text frames')
        return
      }
      const parsed = parseClientFrame(data.toString())
      if (!parsed.ok) {
        fail(parsed.code, parsed.message, parsed.requestId)
        return
      }
      queue = queue
        .then(() => handle(parsed.message))
        .catch((err: Error) => {
          req.log.error({ err }, 'websocket message failed')
          fail(ProtocolErrorCode.internal, 'internal error while handling the message; try again')
        })
    })

    const pinger = setInterval(() => {
      if (Date.now() - lastHeard > config.pingIntervalMs * 3) {
        socket.close(CloseCode.pingTimeout, 'no pong within 3 ping intervals')
        return
      }
      send({ type: 'ping', ts: new Date().toISOString() })
    }, config.pingIntervalMs)

    socket.on('close', () => {
      clearInterval(pinger)
      session.close()
      metrics.clients.dec({ transport: 'ws' })
    })
    socket.on('error', (err) => req.log.debug({ err: err.message }, 'websocket error'))

    if (config.adminToken !== null && query.token !== undefined && !authorized) {
      fail(ProtocolErrorCode.unauthorized, 'invalid ?token=; control messages will be refused')
    }
  })
}

export default ws
