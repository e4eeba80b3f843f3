/**
 * Pipelined XADD of events, in id order, each to its channel's stream with
 * `MAXLEN ~` retention. Writing in id order is what lets a reader treat
 * "everything it has seen" as a prefix of the total order (DESIGN.md "one
 * cursor"): Redis runs a pipeline's commands one by one, and a multi-key read
 * between two of them sees every event up to some id and none after.
 */
import type { Redis } from 'ioredis'
import { FIELD_ENVELOPE, FIELD_FLAG, FIELD_STREAM, type RawEvent } from './entry.js'
import type { WorldKeys } from './keys.js'

export interface StreamWriterOptions {
  redis: Redis
  keys: WorldKeys
  /** Approximate entries kept per channel stream. */
  maxLen: number
}

export interface StreamWriter {
  /** Appends the events (already in increasing id order) and records the last id. */
  write(events: readonly RawEvent[]): Promise<void>
}

export function createStreamWriter({ redis, keys, maxLen }: StreamWriterOptions): StreamWriter {
  const channelKeys = new Map<string, string>()
  const keyOf = (channel: string) => {
    let k = channelKeys.get(channel)
    if (k === undefined) {
      k = keys.channel(channel)
      channelKeys.set(channel, k)
    }
    return k
  }
  const maxLenArg = String(maxLen)
  return {
    async write(events) {
      if (events.length === 0) return
      const p = redis.pipeline()
      for (const e of events) {
        p.xadd(
          keyOf(e.channel),
          'MAXLEN',
          '~',
          maxLenArg,
          e.id,
          FIELD_STREAM,
          e.stream,
          FIELD_FLAG,
          e.anomalyFlag,
          FIELD_ENVELOPE,
          e.json,
        )
      }
      p.set(keys.lastId, (events[events.length - 1] as RawEvent).id)
      const results = await p.exec()
      const failed = results?.find(([err]) => err)
      if (failed) throw failed[0]
    },
  }
}
