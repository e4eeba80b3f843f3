/**
 * A gateway instance's view of a world: one consumer group per instance over
 * every channel stream, merged into the total order and released only up to
 * the frontier fully read from every channel (DESIGN.md "one cursor").
 *
 * Release rule: a non-blocking XREADGROUP over all channels runs atomically, and
 * the generator writes in id order, so at the moment of such a read every channel
 * that returned fewer than COUNT entries was read to its end, and what has been
 * read is a prefix of the total order except beyond the last id of a channel that
 * filled its COUNT. Events past the lowest such id are held back until a later
 * read covers them. A read that was served after *blocking* is not atomic across
 * channels in every Redis version (before 7.2 a woken reader may be served from
 * the one key that woke it), so it is always followed by a non-blocking read, and
 * only that one decides what is released.
 *
 * Groups are made fresh at start (a restarted instance with a fixed id owns
 * nothing of its predecessor's position or pending entries). When they go
 * missing while running — Redis restarted empty, or a cleanup job took the
 * instance for dead — `onGroupsLost` decides where they are made again.
 */
import type { Redis } from 'ioredis'
import { compareIds } from './ids.js'
import { entryToRawEvent, type RawEvent } from './entry.js'
import type { WorldKeys } from './keys.js'
import { lastStoredId } from './range.js'

type ReadReply = [string, [string, string[] | null][]][]

export interface GroupReaderOptions {
  /** A connection of its own: it spends its time blocked in XREADGROUP. */
  redis: Redis
  keys: WorldKeys
  channels: readonly string[]
  group: string
  consumer: string
  /** Entries per channel per read. */
  count?: number
  blockMs?: number
  /** Receives released events in strictly increasing id order. Must not throw. */
  onEvents(events: RawEvent[]): void
  /** A read failed; the loop retries after a pause. */
  onError?(err: Error): void
  /**
   * Some groups are gone. Called before they are made again (all of them, so
   * every channel restarts at the same point); returns the id to make them at:
   * the frontier when the streams are the ones read so far (nothing is then
   * read twice or skipped), `'0-0'` when the streams were replaced (everything
   * in them is new). May throw (the read is then retried after a pause).
   * Default: `'0-0'`.
   */
  onGroupsLost?(frontier: string | null): Promise<string> | string
  /** The groups were missing and were recreated at `at`. */
  onGroupsRecreated?(at: string): void
}

export class GroupReader {
  readonly #o: Required<
    Omit<GroupReaderOptions, 'onError' | 'onGroupsLost' | 'onGroupsRecreated'>
  > &
    Pick<GroupReaderOptions, 'onError' | 'onGroupsLost' | 'onGroupsRecreated'>
  readonly #streamKeys: string[]
  #held: RawEvent[] = []
  #frontier: string | null = null
  #running: Promise<void> | null = null
  #closing = false
  #reads = 0

  constructor(opts: GroupReaderOptions) {
    this.#o = { count: 1000, blockMs: 1000, ...opts }
    this.#streamKeys = opts.channels.map((c) => opts.keys.channel(c))
  }

  /** Last id released to `onEvents` (or the starting point); the catch-up bound. */
  get frontier(): string | null {
    return this.#frontier
  }

  get reads(): number {
    return this.#reads
  }

  /**
   * Creates the groups positioned at the newest stored id (so every channel
   * starts at the same point of the total order) and starts the read loop.
   * Refuses to start twice.
   */
  async start(): Promise<void> {
    if (this.#running) throw new Error('GroupReader already started')
    const start = (await lastStoredId(this.#o.redis, this.#o.keys, this.#o.channels)) ?? '0-0'
    await this.#createGroups(start)
    this.#frontier = start
    this.#running = this.#loop()
  }

  /** Replaces the groups on every channel with new ones positioned at `at`. */
  async #createGroups(at: string): Promise<void> {
    const p = this.#o.redis.pipeline()
    for (const key of this.#streamKeys) {
      p.xgroup('DESTROY', key, this.#o.group)
      p.xgroup('CREATE', key, this.#o.group, at, 'MKSTREAM')
    }
    const results = (await p.exec()) ?? []
    // DESTROY of a group or stream that does not exist is fine (odd: CREATE).
    for (const [i, [err]] of results.entries()) if (err && i % 2 === 1) throw err
  }

  async #loop(): Promise<void> {
    const { redis, group, consumer, count, blockMs } = this.#o
    const streams = ['STREAMS', ...this.#streamKeys, ...this.#streamKeys.map(() => '>')]
    const head = ['GROUP', group, consumer, 'COUNT', String(count)]
    const blocking = [...head, 'BLOCK', String(blockMs), ...streams]
    const nonBlocking = [...head, ...streams]
    while (!this.#closing) {
      try {
        const woken = (await redis.call('XREADGROUP', ...blocking)) as ReadReply | null
        if (woken === null) continue
        const settled = (await redis.call('XREADGROUP', ...nonBlocking)) as ReadReply | null
        this.#reads++
        await this.#handle(woken, settled ?? [])
      } catch (err) {
        if (this.#closing) break
        if (/NOGROUP/.test((err as Error).message)) {
          try {
            await this.#recreate()
            continue
          } catch (recreateErr) {
            if (this.#closing) break
            err = recreateErr
          }
        }
        this.#o.onError?.(err as Error)
        await new Promise((r) => setTimeout(r, 500))
      }
    }
  }

  async #recreate(): Promise<void> {
    const at = (await this.#o.onGroupsLost?.(this.#frontier)) ?? '0-0'
    // Held events were read past the frontier; the new groups deliver them again.
    this.#held = []
    await this.#createGroups(at)
    this.#o.onGroupsRecreated?.(at)
  }

  /** `woken`: what the blocking read returned; `settled`: the atomic read after it. */
  async #handle(woken: ReadReply, settled: ReadReply): Promise<void> {
    const { count } = this.#o
    const fresh: RawEvent[] = []
    let limit: string | null = null
    const acks: [string, string[]][] = []
    const reads: [ReadReply, boolean][] = [
      [woken, false],
      [settled, true],
    ]
    for (const [reply, decides] of reads) {
      for (const [key, entries] of reply) {
        if (entries.length === 0) continue
        const channel = this.#o.channels[this.#streamKeys.indexOf(key)] as string
        const ids: string[] = []
        for (const [id, fields] of entries) {
          ids.push(id)
          if (fields) fresh.push(entryToRawEvent(channel, id, fields))
        }
        acks.push([key, ids])
        if (decides && entries.length >= count) {
          const last = ids[ids.length - 1] as string
          if (limit === null || compareIds(last, limit) < 0) limit = last
        }
      }
    }
    let pool = this.#held.length > 0 ? this.#held.concat(fresh) : fresh
    pool.sort((a, b) => compareIds(a.id, b.id))
    let release = pool
    if (limit !== null) {
      let n = 0
      while (n < pool.length && compareIds((pool[n] as RawEvent).id, limit) <= 0) n++
      release = pool.slice(0, n)
      pool = pool.slice(n)
    } else {
      pool = []
    }
    this.#held = pool
    if (release.length > 0) {
      this.#frontier = (release[release.length - 1] as RawEvent).id
      this.#o.onEvents(release)
    }
    if (acks.length > 0) {
      const p = this.#o.redis.pipeline()
      for (const [key, ids] of acks) p.xack(key, this.#o.group, ...ids)
      await p.exec()
    }
  }

  /** Stops the loop (after the current read returns) and waits for it. Idempotent. */
  async close(): Promise<void> {
    this.#closing = true
    await this.#running
  }
}
