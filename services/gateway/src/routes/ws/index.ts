/**
 * `GET /ws` — the WebSocket protocol of CONTRACT.md: subscribe / unsubscribe
 * with resume, 100 ms batches, ping/pong liveness, control and errors. Every
 * frame is validated; a bad one gets an `error` naming the problem and the
 * socket stays open. Frames are handled, and answered, strictly in the order
 * they arrive; a client that sends faster than they are handled is paused (TCP
 * backpressure), and one that does not read its replies is closed like a slow
 * consumer, so no client can make the gateway's memory grow.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import {
  createTopicMatcher,
  parseClientFrame,
  ProtocolErrorCode,
  UnknownTopicError,
  type ClientMessage,
  type ErrorMessage,
} from '@verisim/schema'
import { readEpoch } from '@verisim/bus'
import { CloseCode, type Sink } from '../../fanout.js'
import { catchupEndTime, createSession } from '../../session.js'
import { isReplayTopic } from '../../replay.js'
import { tokenMatches } from '../../auth.js'
import { callerKey, ControlTimeoutError } from '../../plugins/app/control.js'

/** Frames waiting to be handled before the socket stops being read… */
const PAUSE_AT = 64
/** …and when reading resumes. */
const RESUME_AT = 16

const ws: FastifyPluginAsync = async (app) => {
  app.get('/ws', { websocket: true }, (socket: WebSocket, req) => {
    const { config, metrics } = app
    const sink: Sink = {
      kind: 'ws',
      // A shared Buffer: ws frames it without copying; text frame, never compressed.
      write: (chunk) => socket.send(chunk, { binary: false, compress: false }),
      bufferedBytes: () => socket.bufferedAmount,
      close: (code, reason) => socket.close(code, reason),
    }
    const session = createSession(app, sink)
    metrics.clients.inc({ transport: 'ws' })
    const query = req.query as Record<string, unknown>
    let authorized = config.adminToken === null || tokenMatches(config.adminToken, query.token)
    // The caller scope of this socket's control requestIds: the token it
    // authorized with and its address (a reconnect that resends an id keeps it).
    let callerToken: string | null =
      authorized && config.adminToken !== null ? (query.token as string) : null
    let lastHeard = Date.now()
    // Control-capable clients get every state change as `state_update`.
    let unwatch: (() => void) | null = null
    const watchState = () => {
      unwatch ??= app.control.onState((payload) => send({ type: 'state_update', payload }))
    }
    if (authorized) watchState()
    let queue: Promise<void> = Promise.resolve()
    let waiting = 0
    let paused = false

    const closeSlow = () => {
      metrics.slowClosed.inc()
      session.close()
      socket.close(CloseCode.slowConsumer, 'slow consumer: send queue full; resume with lastId')
    }
    const send = (msg: object) => {
      if (socket.readyState !== socket.OPEN) return
      // Replies count against the same bound as live batches.
      if (socket.bufferedAmount > config.maxClientBufferBytes) return closeSlow()
      socket.send(JSON.stringify(msg))
    }
    const fail = (code: ErrorMessage['code'], message: string, requestId?: string) => {
      metrics.protocolErrors.inc({ code })
      send({ type: 'error', code, message, ...(requestId === undefined ? {} : { requestId }) })
    }

    async function handle(msg: ClientMessage): Promise<void> {
      switch (msg.type) {
        case 'subscribe': {
          if (app.streams.notReadyReason() !== null) {
            return fail(
              ProtocolErrorCode.internal,
              `gateway not ready: ${app.streams.notReadyReason()}`,
            )
          }
          if (msg.lastId !== undefined && msg.lastTimestamp !== undefined) {
            return fail(
              ProtocolErrorCode.invalidMessage,
              'invalid "subscribe" message: give either "lastId" or "lastTimestamp", not both',
            )
          }
          const before = session.client.topics
          let topics: string[]
          try {
            topics = session.subscribe(msg.topics)
          } catch (err) {
            if (err instanceof UnknownTopicError)
              return fail(ProtocolErrorCode.unknownTopic, err.message)
            throw err
          }
          const point =
            msg.lastId !== undefined
              ? { lastId: msg.lastId }
              : msg.lastTimestamp !== undefined
                ? { lastTimestamp: msg.lastTimestamp }
                : null
          // A snapshot covers what this subscribe adds: events the topics held
          // before did not match (those may already have been sent live).
          // (A replay topic's events come from that replay, never a snapshot.)
          const added = topics.filter((t) => !before.includes(t) && !isReplayTopic(t))
          const wantSnapshot =
            point === null && msg.snapshot !== 0 && msg.snapshot !== false && added.length > 0
          // Hold live events before the first await, so none slips between the
          // catch-up window (or the snapshot) and live delivery.
          if (point || wantSnapshot) session.hold()
          const epoch = await readEpoch(app.redis, app.streams.keys)
          send({
            type: 'subscribed',
            topics,
            epoch: epoch?.epoch ?? null,
            lastId: app.streams.frontier(),
          })
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
              snapshot(events) {
                if (socket.readyState !== socket.OPEN) return
                socket.send(`{"type":"snapshot","events":[${events.map((e) => e.json).join(',')}]}`)
              },
            })
          } else if (wantSnapshot) {
            const catalog = app.streams.catalog()
            const isNew = createTopicMatcher(added, catalog)
            const isOld = before.length > 0 ? createTopicMatcher(before, catalog) : () => false
            await session.snapshot(
              (e) => isNew(e) && !isOld(e),
              (events) => {
                if (socket.readyState !== socket.OPEN) return
                socket.send(`{"type":"snapshot","events":[${events.map((e) => e.json).join(',')}]}`)
              },
            )
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
          if (config.adminToken === null || tokenMatches(config.adminToken, msg.token)) {
            authorized = true
            if (config.adminToken !== null) callerToken = msg.token
            watchState()
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
          // Not queued behind the generator's answer: other messages go on meanwhile.
          const { requestId, action } = msg
          app.control
            .request(action, msg.payload ?? {}, {
              key: callerKey('ws', { token: callerToken, address: req.ip }, requestId),
              label: `requestId ${JSON.stringify(requestId)}`,
            })
            .then((res) => {
              if (res.success)
                send({ type: 'ack', requestId, success: true, result: res.result ?? null })
              else {
                metrics.protocolErrors.inc({ code: res.error?.code ?? 'unknown' })
                send({
                  type: 'error',
                  code: res.error?.code,
                  message: res.error?.message,
                  requestId,
                })
              }
            })
            .catch((err: Error & { code?: string }) => {
              // Only our own timeout's text reaches the client; anything else is
              // logged and answered with a fixed message (never an exception's text).
              const timeout = err instanceof ControlTimeoutError
              if (!timeout) req.log.error({ err, action }, 'websocket control failed')
              const code = timeout ? err.code : ProtocolErrorCode.internal
              metrics.protocolErrors.inc({ code })
              send({
                type: 'error',
                code,
                message: timeout ? err.message : `internal error while handling "${action}"`,
                requestId,
              })
            })
          return
        }
      }
    }

    /** Runs `task` after every frame that came before it; pauses reading while many wait. */
    const enqueue = (task: () => void | Promise<void>) => {
      waiting++
      if (!paused && waiting >= PAUSE_AT) {
        paused = true
        socket.pause()
      }
      queue = queue
        .then(task)
        .catch((err: Error) => {
          req.log.error({ err }, 'websocket message failed')
          fail(ProtocolErrorCode.internal, 'internal error while handling the message; try again')
        })
        .finally(() => {
          waiting--
          if (paused && (waiting <= RESUME_AT || socket.readyState !== socket.OPEN)) {
            paused = false
            socket.resume()
          }
        })
    }

    socket.on('message', (data, isBinary) => {
      lastHeard = Date.now()
      if (isBinary) {
        enqueue(() =>
          fail(
            ProtocolErrorCode.binaryFrame,
            'binary frames are not accepted; send JSON text frames',
          ),
        )
        return
      }
      const parsed = parseClientFrame(data.toString())
      if (!parsed.ok) {
        enqueue(() => fail(parsed.code, parsed.message, parsed.requestId))
        return
      }
      enqueue(() => handle(parsed.message))
    })

    // Liveness: a ping every interval; a connection from which nothing (a pong or
    // any other frame) has arrived for 3 intervals is closed.
    const livenessMs = config.pingIntervalMs * 3
    const pinger = setInterval(
      () => send({ type: 'ping', ts: new Date().toISOString() }),
      config.pingIntervalMs,
    )
    let watchdog = setTimeout(function check() {
      const silent = Date.now() - lastHeard
      if (silent >= livenessMs) {
        session.close()
        socket.close(CloseCode.pingTimeout, `no pong for ${livenessMs} ms (3 ping intervals)`)
        return
      }
      watchdog = setTimeout(check, livenessMs - silent)
    }, livenessMs)

    socket.on('close', () => {
      unwatch?.()
      clearInterval(pinger)
      clearTimeout(watchdog)
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
