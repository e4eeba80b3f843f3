/**
 * The archiver's read loop: one consumer group (`archiver`) over every channel
 * stream, events written to PostgreSQL in batches, each entry acknowledged
 * only after the batch holding it committed.
 *
 * - A crash between commit and acknowledgement leaves entries pending; the
 *   next start reads this consumer's pending entries first and writes them
 *   again, which adds nothing (the archive's key is the event's epoch and id).
 * - Entries pending at consumers of this group that went away (another
 *   consumer name) are claimed after `claimIdleMs`.
 * - PostgreSQL down: the batch is retried with backoff and nothing more is
 *   read meanwhile, so Redis holds the rest.
 * - The streams replaced (a restore, a travel, Redis restarted empty): the
 *   group is gone with them; the batch in hand is written under the epoch it
 *   was read in, then the group is made again at the start of the new streams
 *   and their events are archived under the new epoch.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { toArchiveRow, type ArchiveRow, type ArchiveStore } from '@verisim/archive'
import { entryToRawEvent, readEpoch, type WorldKeys } from '@verisim/bus'

type ReadReply = [string, [string, string[] | null][]][]

export interface ArchiverOptions {
  /** A connection of its own: it spends its time blocked in XREADGROUP. */
  redis: Redis
  keys: WorldKeys
  world: string
  channels: readonly string[]
  store: ArchiveStore
  log: Logger
  /** The world module's entity fields (undefined: every `…Id` field). */
  entityFields?: readonly string[]
  group?: string
  consumer?: string
  /** Events per batch at most. Default 10000. */
  batchSize?: number
  /** A batch is written at the latest this long after its first event (ms). Default 200. */
  flushMs?: number
  blockMs?: number
  /** Pending entries of other consumers idle this long are claimed (ms). Default 30000. */
  claimIdleMs?: number
  /** Batches written at once (each acknowledged after its own commit). Default 2. */
  writers?: number
  /** Called after each committed batch (benchmarks measure the lag with it). */
  onCommit?(rows: readonly ArchiveRow[], committedAt: number): void
}

export interface ArchiverStats {
  /** Events written (new rows). */
  archived: number
  /** Events read again and found already archived. */
  duplicates: number
  batches: number
  /** Failed batch writes (each retried). */
  writeFailures: number
  /** Entries that could not be archived (not an event envelope); acknowledged and logged. */
  skipped: number
  /** Wall ms between the newest archived event's write to Redis and its commit. */
  lagMs: number | null
  epoch: string | null
  /** Last write to PostgreSQL failed and is being retried. */
  failing: boolean
}

export const ARCHIVER_GROUP = 'archiver'

export class Archiver {
  readonly #o: Required<Omit<ArchiverOptions, 'entityFields' | 'onCommit'>> &
    Pick<ArchiverOptions, 'entityFields' | 'onCommit'>
  readonly #streamKeys: string[]
  readonly #channelOf = new Map<string, string>()
  #epoch: string | null = null
  #running: Promise<void> | null = null
  #closing = false
  #wake: (() => void) | null = null
  readonly stats: ArchiverStats = {
    archived: 0,
    duplicates: 0,
    batches: 0,
    writeFailures: 0,
    skipped: 0,
    lagMs: null,
    epoch: null,
    failing: false,
  }

  constructor(opts: ArchiverOptions) {
    this.#o = {
      group: ARCHIVER_GROUP,
      consumer: 'archiver-1',
      batchSize: 10_000,
      flushMs: 200,
      blockMs: 1000,
      claimIdleMs: 30_000,
      writers: 2,
      ...opts,
    }
    this.#streamKeys = opts.channels.map((c) => opts.keys.channel(c))
    for (const [i, key] of this.#streamKeys.entries()) {
      this.#channelOf.set(key, opts.channels[i] as string)
    }
  }

  get epoch(): string | null {
    return this.#epoch
  }

  /** Makes the group where missing (at the start of the streams) and starts the loop. */
  async start(): Promise<void> {
    if (this.#running) throw new Error('Archiver already started')
    await this.#ensureGroups()
    this.#running = this.#loop()
  }

  /** Stops after the batch in hand is written (or given up when closing). Idempotent. */
  async close(): Promise<void> {
    this.#closing = true
    this.#wake?.()
    await this.#running
  }

  /** The group on every channel, kept where it exists (its position and pending entries are the archive's progress). */
  async #ensureGroups(): Promise<void> {
    const { redis, keys, group } = this.#o
    for (;;) {
      const epoch = await readEpoch(redis, keys)
      if (epoch) {
        this.#epoch = epoch.epoch
        this.stats.epoch = epoch.epoch
        break
      }
      if (this.#closing) return
      // No epoch yet: the generator has not started (or Redis was just emptied).
      await this.#sleep(500)
    }
    const p = redis.pipeline()
    for (const key of this.#streamKeys) p.xgroup('CREATE', key, group, '0', 'MKSTREAM')
    for (const [err] of (await p.exec()) ?? []) {
      if (err && !/BUSYGROUP/.test(err.message)) throw err
    }
  }

  async #loop(): Promise<void> {
    const { redis, group, consumer, batchSize, blockMs, log } = this.#o
    let pending = true // this consumer's pending entries first (a restart after a crash)
    let lastClaim = 0
    let batch: { rows: ArchiveRow[]; acks: Map<string, string[]>; first: number } = fresh()
    // Batches are written (up to `writers` at once) while the next is read and
    // parsed (PostgreSQL works on other cores meanwhile); each is acknowledged
    // after its own commit.
    const writing = new Set<Promise<void>>()
    /** Waits for every write in flight. */
    const settle = async (): Promise<void> => {
      const all = [...writing]
      writing.clear()
      await Promise.all(all)
    }
    while (!this.#closing) {
      try {
        if (
          batch.acks.size === 0 &&
          writing.size === 0 &&
          Date.now() - lastClaim >= this.#o.claimIdleMs
        ) {
          lastClaim = Date.now()
          if ((await this.#claimStale()) > 0) pending = true
        }
        const room = Math.max(1, batchSize - batch.rows.length)
        const perChannel = Math.max(1, Math.ceil(room / this.#streamKeys.length))
        const ids = this.#streamKeys.map(() => (pending ? '0' : '>'))
        const args = ['GROUP', group, consumer, 'COUNT', String(perChannel)]
        if (!pending && batch.rows.length === 0) args.push('BLOCK', String(blockMs))
        const reply = (await redis.call(
          'XREADGROUP',
          ...args,
          'STREAMS',
          ...this.#streamKeys,
          ...ids,
        )) as ReadReply | null
        let got = 0
        for (const [key, entries] of reply ?? []) {
          const channel = this.#channelOf.get(key) as string
          for (const [id, fields] of entries) {
            got++
            let acks = batch.acks.get(key)
            if (!acks) batch.acks.set(key, (acks = []))
            acks.push(id)
            if (!fields) continue // pending, but trimmed from the stream since: nothing to archive
            try {
              batch.rows.push(
                toArchiveRow(
                  entryToRawEvent(channel, id, fields),
                  this.#epoch as string,
                  this.#o.world,
                  this.#o.entityFields,
                ),
              )
            } catch (err) {
              this.stats.skipped++
              log.warn({ channel, id, err: (err as Error).message }, 'entry not archived')
            }
          }
        }
        if (batch.rows.length > 0 && batch.first === 0) batch.first = Date.now()
        // Pending entries are re-read from '0' until none is left; a full read may have more.
        if (pending && got === 0) pending = false
        const due =
          (pending && got > 0) || // re-reading from '0' returns the same entries until acknowledged
          batch.rows.length >= batchSize ||
          (batch.rows.length > 0 && (got === 0 || Date.now() - batch.first >= this.#o.flushMs))
        if (due || (batch.rows.length === 0 && batch.acks.size > 0)) {
          if (pending || writing.size >= this.#o.writers) await settle()
          if (pending) {
            // the next page of pending entries: acknowledged ones are gone from it
            await this.#flush(batch)
            batch = fresh()
            continue
          }
          const w = this.#flush(batch)
          w.catch(() => undefined) // awaited by settle(); only fails when closing
          writing.add(w)
          batch = fresh()
        } else if (got === 0) await settle()
      } catch (err) {
        if (this.#closing) break
        if (/NOGROUP|no such key/i.test((err as Error).message)) {
          // The streams were replaced or lost: write what was read under its epoch, then follow.
          await settle().catch(() => undefined)
          if (batch.rows.length > 0) await this.#flush(batch, false)
          batch = fresh()
          pending = false
          const before = this.#epoch
          await this.#ensureGroups()
          log.info({ from: before, to: this.#epoch }, 'streams replaced: archiving the new epoch')
          continue
        }
        log.warn({ err: (err as Error).message }, 'archiver read failed; retrying')
        await this.#sleep(500)
      }
    }
    await settle().catch(() => undefined)
    if (batch.rows.length > 0) await this.#flush(batch).catch(() => undefined)
  }

  /** Writes the batch (retrying until PostgreSQL takes it, unless closing), then acknowledges it. */
  async #flush(
    batch: { rows: ArchiveRow[]; acks: Map<string, string[]> },
    ack = true,
  ): Promise<void> {
    const { store, log } = this.#o
    let delay = 200
    for (;;) {
      try {
        const added = batch.rows.length > 0 ? await store.write(batch.rows) : 0
        this.stats.archived += added
        this.stats.duplicates += batch.rows.length - added
        this.stats.batches++
        if (batch.rows.length > 0) {
          const newest = batch.rows[batch.rows.length - 1] as ArchiveRow
          this.stats.lagMs = Date.now() - Number(newest.id.split('-')[0])
        }
        this.#o.onCommit?.(batch.rows, Date.now())
        if (this.stats.failing) log.info('archive writes succeed again')
        this.stats.failing = false
        break
      } catch (err) {
        this.stats.writeFailures++
        if (!this.stats.failing) {
          log.warn(
            { err: (err as Error).message, events: batch.rows.length },
            'archive write failed; retrying (nothing is acknowledged until it is written)',
          )
        }
        this.stats.failing = true
        if (this.#closing) throw err
        await this.#sleep(delay)
        delay = Math.min(delay * 2, 5000)
      }
    }
    if (!ack) return
    const p = this.#o.redis.pipeline()
    for (const [key, ids] of batch.acks) p.xack(key, this.#o.group, ...ids)
    await p.exec()
  }

  /** Pending entries of other consumers of the group idle for `claimIdleMs`: claimed by this one. */
  async #claimStale(): Promise<number> {
    const { redis, group, consumer, claimIdleMs, log } = this.#o
    let claimed = 0
    for (const key of this.#streamKeys) {
      let cursor = '0-0'
      do {
        const [next, entries] = (await redis.call(
          'XAUTOCLAIM',
          key,
          group,
          consumer,
          String(claimIdleMs),
          cursor,
          'COUNT',
          '1000',
          'JUSTID',
        )) as [string, string[]]
        claimed += entries.length
        cursor = next
      } while (cursor !== '0-0')
    }
    // Claimed entries are now this consumer's pending ones: the loop reads them from '0'.
    if (claimed > 0) log.info({ claimed }, 'claimed pending entries of a consumer that went away')
    return claimed
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms)
      this.#wake = () => {
        clearTimeout(t)
        resolve()
      }
    })
  }
}

function fresh(): { rows: ArchiveRow[]; acks: Map<string, string[]>; first: number } {
  return { rows: [], acks: new Map(), first: 0 }
}
