/**
 * This instance's view of the world's streams: waits for the generator's
 * catalog, then runs the consumer-group reader (group `gw:<instanceId>`) into
 * the fan-out, and keeps the instance's heartbeat key alive.
 */
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { StreamInfo } from '@verisim/schema'
import { SpecialChannel } from '@verisim/schema'
import { GroupReader, createKeys, groupName, type WorldKeys } from '@verisim/bus'
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
}

declare module 'fastify' {
  interface FastifyInstance {
    streams: Streams
  }
}

/** Heartbeat TTL; the cleanup job treats an instance without one as dead. */
export const HEARTBEAT_TTL_S = 15

export default fp(
  async (app) => {
    const { config, redis, metrics } = app
    const keys = createKeys(config.prefix, config.world)
    let catalog: StreamInfo[] = []
    let channels: string[] = []
    let reader: GroupReader | null = null
    let readerRedis: Redis | null = null
    let closing = false
    let reason: string | null = 'waiting for the generator to publish the world catalog'

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
      await redis.set(keys.gatewayHeartbeat(config.instanceId), String(Date.now()), 'EX', HEARTBEAT_TTL_S)
    }

    async function init() {
      while (!closing) {
        try {
          if (await loadCatalog()) break
        } catch (err) {
          reason = `Redis unreachable: ${(err as Error).message}`
        }
        await new Promise((r) => setTimeout(r, 500))
      }
      if (closing) return
      readerRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: null })
      readerRedis.on('error', () => undefined) // the reader loop reports failures itself
      reader = new GroupReader({
        redis: readerRedis,
        keys,
        channels,
        group: groupName(config.instanceId),
        consumer: config.instanceId,
        onEvents(events) {
          metrics.eventsRead.inc(events.length)
          fanout.push(events)
        },
        onError(err) {
          app.log.warn({ err: err.message }, 'stream read failed; retrying')
        },
        onGroupsRecreated() {
          app.log.warn('consumer groups were missing (Redis lost its data); recreated')
          void loadCatalog().catch(() => undefined)
        },
      })
      await reader.start()
      fanout.start()
      await heartbeat()
      reason = null
      app.log.info(
        { group: groupName(config.instanceId), channels, streams: catalog.length, from: reader.frontier },
        'reading world streams',
      )
    }

    const heartbeatTimer = setInterval(() => {
      if (reason === null) heartbeat().catch(() => undefined)
    }, (HEARTBEAT_TTL_S * 1000) / 3)
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
    } satisfies Streams)
  },
  { name: 'streams', dependencies: ['config', 'redis', 'metrics'] },
)
