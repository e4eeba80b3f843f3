/**
 * Writing events to the archive and reading them back. Writes are idempotent:
 * (epoch, id, timestamp) is the key and a row already there is left as it is,
 * so a batch written again after a crash adds nothing.
 *
 * A batch goes in by COPY (the fast path: a new batch, nearly always); when any
 * of its rows is archived already (a batch read again after a crash), the COPY
 * fails as a whole and the batch is inserted row by row skipping those. The
 * hourly counts (`events_hourly`) grow by the rows actually added, in the same
 * transaction.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { checkSchemaName } from './schema.js'

/** One event as the archive keeps it. */
export interface ArchiveRow {
  /** The stream epoch (timeline) the event belongs to. */
  epoch: string
  /** Redis stream id `<ms>-<seq>` (the envelope's `id`). */
  id: string
  /** Simulated time, epoch ms UTC. */
  ts: number
  world: string
  channel: string
  stream: string
  anomalyFlag: string
  /** The envelope's normalizedValue (null when it has none). */
  value: number | null
  /** Ids the event is about (see {@link entityIdsOf}). */
  entities: string[]
  /** The envelope as published (JSON text). */
  envelope: string
}

export interface ArchiveStoreOptions {
  url: string
  /** Schema the archive lives in (see `migrateArchive`). Default `public`. */
  schema?: string
  /** Connections kept. Default 4. */
  poolSize?: number
}

const DAY_MS = 86_400_000

const COLUMNS =
  'epoch, id, id_ms, id_seq, ts, world, channel, stream, anomaly_flag, value, entities, envelope'

/** The fast path: the whole batch by COPY (fails as a whole on a row archived already). */
const COPY = `COPY events (${COLUMNS}) FROM STDIN`

/** The slow path: the rows not archived yet, and the hourly counts of those (answers how many). */
const INSERT_NEW = `
  WITH added AS (
    INSERT INTO events (${COLUMNS})
    SELECT u.epoch, u.id, split_part(u.id, '-', 1)::bigint, split_part(u.id, '-', 2)::bigint,
           to_timestamp(u.ts / 1000.0), u.world, u.channel, u.stream, u.flag, u.value, u.ents::text[], u.env::json
    FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::real[], $9::text[], $10::text[])
      AS u(epoch, id, ts, world, channel, stream, flag, value, ents, env)
    ON CONFLICT DO NOTHING
    RETURNING ts, epoch, world, stream, channel, anomaly_flag, value
  ), counted AS (
    INSERT INTO events_hourly AS h (hour, epoch, world, stream, channel, anomaly_flag, n, value_sum)
    SELECT date_trunc('hour', ts), epoch, min(world), stream, min(channel), anomaly_flag, count(*), coalesce(sum(value), 0)
    FROM added GROUP BY 1, 2, 4, 6 ORDER BY 1, 2, 4, 6
    ON CONFLICT (hour, epoch, stream, anomaly_flag)
      DO UPDATE SET n = h.n + EXCLUDED.n, value_sum = h.value_sum + EXCLUDED.value_sum
  )
  SELECT count(*)::int AS added FROM added`

/** Adds counts computed here (every row of the batch is new: the COPY took them all). */
const ADD_COUNTS = `
  INSERT INTO events_hourly AS h (hour, epoch, world, stream, channel, anomaly_flag, n, value_sum)
  SELECT to_timestamp(u.hour / 1000.0), u.epoch, u.world, u.stream, u.channel, u.flag, u.n, u.vsum
  FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::float8[])
    AS u(hour, epoch, world, stream, channel, flag, n, vsum)
  ON CONFLICT (hour, epoch, stream, anomaly_flag)
    DO UPDATE SET n = h.n + EXCLUDED.n, value_sum = h.value_sum + EXCLUDED.value_sum`

const HOUR_MS = 3_600_000

export class ArchiveStore {
  readonly pool: pg.Pool
  readonly schema: string
  /** Days whose partition is known to exist. */
  readonly #days = new Set<number>()
  readonly #epochs = new Set<string>()

  constructor(opts: ArchiveStoreOptions) {
    this.schema = checkSchemaName(opts.schema ?? 'public')
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 4,
      options: `-c search_path=${this.schema}`,
      connectionTimeoutMillis: 5000,
    })
    // An idle connection dropped (the server restarted): the pool makes a new one on demand.
    this.pool.on('error', () => undefined)
  }

  /**
   * Writes `rows` in one transaction; returns how many were new. Throws when
   * PostgreSQL does not take them (nothing is then written).
   */
  async write(rows: readonly ArchiveRow[]): Promise<number> {
    if (rows.length === 0) return 0
    const days = new Set<number>()
    for (const r of rows) {
      const day = Math.floor(r.ts / DAY_MS)
      if (!this.#days.has(day)) days.add(day)
    }
    const epochs = new Map<string, string>()
    for (const r of rows) if (!this.#epochs.has(r.epoch)) epochs.set(r.epoch, r.world)
    const client = await this.pool.connect()
    // A connection dropped mid-transaction (the server restarted) errors the query
    // in flight; without a listener the client's own 'error' event would be uncaught.
    const onError = (): void => undefined
    client.on('error', onError)
    let inserted = 0
    try {
      await client.query('BEGIN')
      for (const day of days) {
        await client.query('SELECT archive_ensure_day($1::date)', [
          new Date(day * DAY_MS).toISOString().slice(0, 10),
        ])
      }
      for (const [epoch, world] of epochs) {
        await client.query(
          'INSERT INTO archive_epochs (epoch, world) VALUES ($1, $2) ON CONFLICT DO NOTHING',
          [epoch, world],
        )
      }
      await client.query('SAVEPOINT batch')
      try {
        await pipeline(Readable.from([copyText(rows)]), client.query(copyFrom(COPY)))
        await client.query(ADD_COUNTS, hourlyCounts(rows))
        inserted = rows.length
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err
        // Some were archived already (read again after a crash): the rest, one by one.
        await client.query('ROLLBACK TO SAVEPOINT batch')
        inserted = (await client.query<{ added: number }>(INSERT_NEW, columns(rows))).rows[0]!.added
      }
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined)
      client.off('error', onError)
      client.release(true) // the connection may be broken: do not reuse it
      throw err
    }
    client.off('error', onError)
    client.release()
    for (const d of days) this.#days.add(d)
    for (const e of epochs.keys()) this.#epochs.add(e)
    return inserted
  }

  /** Events archived (optionally of one epoch). */
  async count(epoch?: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      epoch === undefined
        ? 'SELECT count(*) AS n FROM events'
        : 'SELECT count(*) AS n FROM events WHERE epoch = $1',
      epoch === undefined ? [] : [epoch],
    )
    return Number(rows[0]?.n ?? 0)
  }

  /** Every archived `(epoch, id)` of one channel, in id order (for checks and tests). */
  async ids(channel: string, epoch: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT id FROM events WHERE channel = $1 AND epoch = $2 ORDER BY id_ms, id_seq',
      [channel, epoch],
    )
    return rows.map((r) => r.id)
  }

  /** The newest event archived: its id and simulated time (null when empty). */
  async newest(): Promise<{ epoch: string; id: string; ts: number } | null> {
    const { rows } = await this.pool.query<{ epoch: string; id: string; ts: Date }>(
      'SELECT epoch, id, ts FROM events ORDER BY id_ms DESC, id_seq DESC LIMIT 1',
    )
    const r = rows[0]
    return r ? { epoch: r.epoch, id: r.id, ts: r.ts.getTime() } : null
  }

  /** Partitions (one per simulated day) that exist. */
  async partitions(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
       WHERE p.relname = 'events' AND n.nspname = $1 ORDER BY 1`,
      [this.schema],
    )
    return rows.map((r) => r.name)
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}

/** A PostgreSQL array literal of text values. */
function pgArray(values: readonly string[]): string {
  if (values.length === 0) return '{}'
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`
}

/** The rows as COPY text: tab-separated columns, `\\`, tab and newlines escaped. */
function copyText(rows: readonly ArchiveRow[]): string {
  let out = ''
  for (const r of rows) {
    const dash = r.id.indexOf('-')
    out +=
      `${copyField(r.epoch)}\t${r.id}\t${r.id.slice(0, dash)}\t${r.id.slice(dash + 1)}\t` +
      `${new Date(r.ts).toISOString()}\t${copyField(r.world)}\t${copyField(r.channel)}\t` +
      `${copyField(r.stream)}\t${copyField(r.anomalyFlag)}\t${r.value ?? '\\N'}\t` +
      `${copyField(pgArray(r.entities))}\t${copyField(r.envelope)}\n`
  }
  return out
}

function copyField(v: string): string {
  return /[\\\t\n\r]/.test(v)
    ? v.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : v
}

/** The batch's rows per simulated hour, stream and flag, as ADD_COUNTS's parameters. */
function hourlyCounts(rows: readonly ArchiveRow[]): unknown[][] {
  const groups = new Map<string, { hour: number; r: ArchiveRow; n: number; vsum: number }>()
  for (const r of rows) {
    const hour = Math.floor(r.ts / HOUR_MS) * HOUR_MS
    const key = `${hour}|${r.epoch}|${r.stream}|${r.anomalyFlag}`
    const g = groups.get(key)
    if (g) {
      g.n++
      g.vsum += r.value ?? 0
    } else groups.set(key, { hour, r, n: 1, vsum: r.value ?? 0 })
  }
  const cols: unknown[][] = [[], [], [], [], [], [], [], []]
  // in key order: concurrent writers lock the rows they share in the same order (no deadlock)
  const sorted = [...groups.values()].sort(
    (a, b) =>
      a.hour - b.hour ||
      cmp(a.r.epoch, b.r.epoch) ||
      cmp(a.r.stream, b.r.stream) ||
      cmp(a.r.anomalyFlag, b.r.anomalyFlag),
  )
  for (const g of sorted) {
    cols[0]!.push(g.hour)
    cols[1]!.push(g.r.epoch)
    cols[2]!.push(g.r.world)
    cols[3]!.push(g.r.stream)
    cols[4]!.push(g.r.channel)
    cols[5]!.push(g.r.anomalyFlag)
    cols[6]!.push(g.n)
    cols[7]!.push(g.vsum)
  }
  return cols
}

/** The rows as INSERT_NEW's column arrays. */
function columns(rows: readonly ArchiveRow[]): unknown[][] {
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], []]
  for (const r of rows) {
    cols[0]!.push(r.epoch)
    cols[1]!.push(r.id)
    cols[2]!.push(r.ts)
    cols[3]!.push(r.world)
    cols[4]!.push(r.channel)
    cols[5]!.push(r.stream)
    cols[6]!.push(r.anomalyFlag)
    cols[7]!.push(r.value)
    cols[8]!.push(pgArray(r.entities))
    cols[9]!.push(r.envelope)
  }
  return cols
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
