/**
 * Writing events to the archive and reading them back. Writes are idempotent:
 * (timestamp, epoch, id) is the key and a row already there is left as it is,
 * so a batch written again after a crash adds nothing.
 */
import pg from 'pg'
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

/**
 * The batch's events, then the hourly counts of those actually added (a row
 * already archived adds nothing to either); answers how many were added.
 */
const INSERT = `
  WITH added AS (
    INSERT INTO events (epoch, id, id_ms, id_seq, ts, world, channel, stream, anomaly_flag, entities, envelope)
    SELECT u.epoch, u.id, split_part(u.id, '-', 1)::bigint, split_part(u.id, '-', 2)::bigint,
           to_timestamp(u.ts / 1000.0), u.world, u.channel, u.stream, u.flag, u.ents::text[], u.env::jsonb
    FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
      AS u(epoch, id, ts, world, channel, stream, flag, ents, env)
    ON CONFLICT DO NOTHING
    RETURNING ts, epoch, world, stream, channel, anomaly_flag, (envelope->>'normalizedValue')::double precision AS v
  ), counted AS (
    INSERT INTO events_hourly AS h (hour, epoch, world, stream, channel, anomaly_flag, n, value_sum)
    SELECT date_trunc('hour', ts), epoch, min(world), stream, min(channel), anomaly_flag, count(*), coalesce(sum(v), 0)
    FROM added GROUP BY 1, 2, 4, 6
    ON CONFLICT (hour, epoch, stream, anomaly_flag)
      DO UPDATE SET n = h.n + EXCLUDED.n, value_sum = h.value_sum + EXCLUDED.value_sum
  )
  SELECT count(*)::int AS added FROM added`

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
    const cols: unknown[][] = [[], [], [], [], [], [], [], [], []]
    for (const r of rows) {
      cols[0]!.push(r.epoch)
      cols[1]!.push(r.id)
      cols[2]!.push(r.ts)
      cols[3]!.push(r.world)
      cols[4]!.push(r.channel)
      cols[5]!.push(r.stream)
      cols[6]!.push(r.anomalyFlag)
      cols[7]!.push(pgArray(r.entities))
      cols[8]!.push(r.envelope)
    }
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
      inserted = (await client.query<{ added: number }>(INSERT, cols)).rows[0]?.added ?? 0
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
