/**
 * This instance's view of the world's streams: waits for the generator's
 * catalog, then runs the consumer-group reader (group `gw:<instanceId>`) into
 * the fan-out, and keeps the instance's heartbeat key alive.
 */
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { StreamInfo } from '@verisim/schema'
import { SpecialChannel } from '@verisim/schema'
import {
  GATEWAY_HEARTBEAT_EVERY_MS,
  GATEWAY_HEARTBEAT_TTL_S,
  GroupReader,
  createKeys,
  groupName,
  readEpoch,
  type RawEvent,
  type WorldKeys,
} from '@verisim/bus'
import { createFanout, CloseCode, type Fanout } from '../../fanout.js'
import type { CatchupContext } from '../../catchup.js'

export interface Streams {
  readonly keys: WorldKeys
  readonly fanout: Fanout
  /** Why the instance is not ready yet, or null when it is. */
  notReadyReason(): string | null
  catalog(): readonly StreamInfo[]
  channels(): readonly string[]
  /** Last id released to clients: the upper bound of a catch-up. */
  frontier(): string
  catchupContext(): CatchupContext
  /** Also hands every released batch to `listener` (e.g. the control plane); returns an unsubscribe. */
  onRelease(listener: (events: readonly RawEvent[]) => void): () => void
}

declare module 'fastify' {
  interface FastifyInstance {
    streams: Streams
  }
}

/** Heartbeat TTL; the cleanup job treats an instance without one as dead. */
export const HEARTBEAT_TTL_S = GATEWAY_HEARTBEAT_TTL_S

export default fp(
  async (app) => {
    const { config, redis, metrics } = app
    const keys = createKeys(config.prefix, config.world)
    let catalog: StreamInfo[] = []
    let channels: string[] = []
    let reader: GroupReader | null = null
    let readerRedis: Redis | null = null
    let closing = false
    /** Epoch of the streams the groups were made on; a different one means they were replaced. */
    let knownEpoch: string | null = null
    let heartbeating = false
    let reason: string | null = 'waiting for the generator to publish the world catalog'
    const releaseListeners = new Set<(events: readonly RawEvent[]) => void>()

    const fanout = createFanout({
      catalog: () => catalog,
      batchMs: config.batchMs,
      maxBufferedBytes: config.maxClientBufferBytes,
      onSlowClient(c) {
        metrics.slowClosed.inc()
        app.log.warn({ client: c.id, transport: c.sink.kind }, 'closed slow client')
      },
      onFlush({ frames, bytes, micros }) {
        metrics.framesSent.inc(frames)
        metrics.bytesSent.inc(bytes)
        metrics.flushSeconds.observe(micros / 1e6)
      },
    })

    async function loadCatalog(): Promise<boolean> {
      const raw = await redis.get(keys.catalog)
      if (raw === null) return false
      catalog = JSON.parse(raw) as StreamInfo[]
      channels = [
        ...new Set(catalog.map((s) => s.channel)),
        SpecialChannel.external,
        SpecialChannel.control,
      ]
      return true
    }

    async function heartbeat() {
      await redis.set(
        keys.gatewayHeartbeat(config.instanceId),
        String(Date.now()),
        'EX',
        HEARTBEAT_TTL_S,
      )
    }

    /** Waits for the catalog, then starts reading; retries (Redis may come and go) until closing. */
    async function init() {
      while (!closing) {
        try {
          if (!(await loadCatalog())) {
            reason = 'waiting for the generator to publish the world catalog'
          } else {
            await startReading()
            return
          }
        } catch (err) {
          reason = `not reading the world streams yet (retrying): ${(err as Error).message}`
        }
        await new Promise((r) => setTimeout(r, 500))
      }
    }

    async function startReading() {
      // Heartbeat first: a group must never exist without its instance's heartbeat,
      // or the cleanup job could take a starting instance for dead.
      heartbeating = true
      await heartbeat()
      knownEpoch = (await readEpoch(redis, keys))?.epoch ?? null
      const conn = new Redis(config.redisUrl, { maxRetriesPerRequest: null })
      conn.on('error', () => undefined) // the reader loop reports failures itself
      const r = new GroupReader({
        redis: conn,
        keys,
        channels,
        group: groupName(config.instanceId),
        consumer: config.instanceId,
        onEvents(events) {
          metrics.eventsRead.inc(events.length)
          fanout.push(events)
          for (const l of releaseListeners) l(events)
        },
        onError(err) {
          app.log.warn({ err: err.message }, 'stream read failed; retrying')
        },
        async onGroupsLost(frontier) {
          await heartbeat()
          const epoch = (await readEpoch(redis, keys))?.epoch ?? null
          if (epoch !== null && epoch === knownEpoch) {
            // Same streams (the groups were taken for a dead instance's): carry on
            // from the frontier, so nothing is delivered twice or skipped.
            app.log.warn({ frontier }, 'consumer groups were missing; recreated at the frontier')
            return frontier ?? '0-0'
          }
          // The streams were replaced (Redis restarted empty, or a restore or a
          // travel began a new timeline): events after what
          // clients have may be gone. Close them so they resume and learn it
          // (catchup reason "epoch_changed") instead of seeing a silent gap.
          knownEpoch = epoch
          metrics.streamsLost.inc()
          const list = [...fanout.clients()]
          for (const c of list) {
            fanout.remove(c)
            c.sink.close(
              CloseCode.streamsLost,
              'streams replaced (epoch changed); reconnect with lastId',
            )
          }
          app.log.warn(
            { epoch, frontier, closedClients: list.length },
            'stored streams were replaced (epoch changed: Redis lost them, or a restore or a travel began a new timeline); consumer groups recreated, clients closed to resume',
          )
          void loadCatalog().catch(() => undefined)
          return '0-0'
        },
      })
      try {
        await r.start()
      } catch (err) {
        conn.disconnect()
        throw err
      }
      reader = r
      readerRedis = conn
      if (closing) return
      fanout.start()
      reason = null
      app.log.info(
        {
          group: groupName(config.instanceId),
          channels,
          streams: catalog.length,
          from: r.frontier,
        },
        'reading world streams',
      )
    }

    const heartbeatTimer = setInterval(() => {
      if (!heartbeating || closing) return
      heartbeat().catch(() => undefined)
      // Groups remade before the generator made the new epoch: the epoch that
      // appears next belongs to the streams read now.
      if (knownEpoch === null) {
        readEpoch(redis, keys)
          .then((e) => {
            if (knownEpoch === null && e !== null) knownEpoch = e.epoch
          })
          .catch(() => undefined)
      }
    }, GATEWAY_HEARTBEAT_EVERY_MS)
    heartbeatTimer.unref()

    let initializing: Promise<void> | null = null
    app.addHook('onReady', async () => {
      initializing = init().catch((err: Error) => {
        reason = `stream reader failed: ${err.message}`
        app.log.error({ err }, 'stream reader failed to start')
      })
    })

    app.addHook('preClose', async () => {
      closing = true
      fanout.stop()
      for (const c of fanout.clients()) c.sink.close(CloseCode.goingAway, 'server shutting down')
    })
    app.addHook('onClose', async () => {
      clearInterval(heartbeatTimer)
      await initializing
      // close() flags the loop first; disconnecting then ends the blocked read.
      const stopped = reader?.close()
      readerRedis?.disconnect()
      await stopped
      await redis.del(keys.gatewayHeartbeat(config.instanceId)).catch(() => undefined)
    })

    app.decorate('streams', {
      keys,
      fanout,
      notReadyReason: () => reason,
      catalog: () => catalog,
      channels: () => channels,
      frontier: () => reader?.frontier ?? '0-0',
      catchupContext: () => ({ redis, keys, channels }),
      onRelease(listener) {
        releaseListeners.add(listener)
        return () => releaseListeners.delete(listener)
      },
    } satisfies Streams)
  },
  { name: 'streams', dependencies: ['config', 'redis', 'metrics'] },
)
