/**
 * The archive (issue 18): ingest, lag and query times on a run of ≥ 20 million
 * events, on a PostgreSQL found as `npm start` finds one, in a schema of the
 * bench's own (dropped at the end unless VERISIM_BENCH_KEEP=1).
 *
 * 1. bulk load: the tutoring world's events of VERISIM_BENCH_ARCHIVE_DAYS
 *    (31: ~20.3 M events) written through ArchiveStore, two writers at once;
 * 2. archiver ingest: 1 M events put on the Redis channel streams first, then
 *    drained by the archiver (Redis → PostgreSQL, acknowledged after commit);
 * 3. lag: a publisher at 10,000 events/s for 60 s with the archiver following;
 *    lag = commit time − the event's publish time (its Redis id);
 * 4. queries through the gateway's HTTP API on the loaded run: 30-day journeys
 *    of 100 students (GET /api/journeys/:id) and 7-day aggregates at 50 moments
 *    (GET /api/metrics/aggregate).
 */
import { createRequire } from 'node:module'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { ArchiveStore, discoverPostgres, migrateArchive, toArchiveRow } from '@verisim/archive'
import {
  createEnvelopeEncoder,
  createIdSequence,
  createKeys,
  createStreamWriter,
  deletePrefix,
  writeWorldDescription,
} from '@verisim/bus'
import { Archiver } from '@verisim/archiver'
import { buildApp, loadConfig } from '@verisim/gateway'
import { createEngine, DAY, HOUR } from '@verisim/sim'
import { loadWorldById } from '@verisim/worlds'

const require = createRequire(import.meta.url)
const pg = require('pg')

const DAYS = Number(process.env.VERISIM_BENCH_ARCHIVE_DAYS ?? 31)
const START = Date.parse('2026-03-02T00:00:00Z')
const SCHEMA = 'bench_archive'
/** Batches the archiver writes at once (ARCHIVER_WRITERS; the service's default, 2). */
const WRITERS = Number(process.env.ARCHIVER_WRITERS ?? 2)
const silent = pino({ level: 'silent' })

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

export default async function run(ctx) {
  const rows = []
  const db = await discoverPostgres({ log: ctx.log })
  const admin = new pg.Client({ connectionString: db.url })
  await admin.connect()
  // VERISIM_BENCH_REUSE=1 (with a run kept by VERISIM_BENCH_KEEP=1): measure again without loading
  const reuse =
    process.env.VERISIM_BENCH_REUSE === '1' &&
    (await admin.query(`SELECT to_regclass('${SCHEMA}.events') AS t`)).rows[0].t !== null
  if (!reuse) await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
  await migrateArchive(db.url, { schema: SCHEMA })
  const store = new ArchiveStore({ url: db.url, schema: SCHEMA, poolSize: 4 })
  const world = loadWorldById('tutoring')
  const entityFields = world.module.entityFields
  const redisUrl = await ctx.redisUrl()
  const redis = new Redis(redisUrl)
  const prefix = `bench${process.pid}`
  const keys = createKeys(prefix, 'tutoring')
  const epoch = 'be0c000000000001'
  try {
    // 1. bulk load ------------------------------------------------------------
    const engine = createEngine({ world, seed: 42, start: START })
    const encode = createEnvelopeEncoder('tutoring', createIdSequence())
    let loaded = reuse ? await store.count(epoch) : 0
    if (reuse) ctx.log(`reusing the kept run: ${loaded.toLocaleString('en-US')} events`)
    const t0 = performance.now()
    const inflight = new Set()
    for (let h = 1; !reuse && h <= DAYS * 24; h++) {
      const events = engine.advance(START + h * HOUR)
      for (let i = 0; i < events.length; i += 5000) {
        const batch = events
          .slice(i, i + 5000)
          .map((e) => toArchiveRow(encode(e, e.ts), epoch, 'tutoring', entityFields))
        const p = store.write(batch).then((n) => {
          loaded += n
          inflight.delete(p)
        })
        inflight.add(p)
        if (inflight.size >= 2) await Promise.race(inflight)
      }
      if (h % 24 === 0)
        ctx.log(`loaded day ${h / 24} of ${DAYS}: ${loaded.toLocaleString('en-US')} events`)
    }
    await Promise.all(inflight)
    const loadS = (performance.now() - t0) / 1000
    // What autovacuum does to each day's partition once its day is over (statistics,
    // the entities index's pending entries merged), done now rather than waited for.
    ctx.log('VACUUM (ANALYZE) of the loaded run')
    await admin.query(`VACUUM (ANALYZE) ${SCHEMA}.events`)
    const size = await admin.query(
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS b FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
      [SCHEMA],
    )
    rows.push(
      {
        name: 'run archived',
        value: loaded,
        unit: 'events',
        target: '≥ 20,000,000',
        note: `${DAYS} simulated days, tutoring, seed 42`,
      },
      {
        name: 'bulk load (ArchiveStore, 2 writers)',
        value: reuse ? NaN : loaded / loadS,
        unit: 'events/s',
        note: reuse ? 'not measured: a kept run reused' : 'engine + envelopes + rows + PostgreSQL',
      },
      {
        name: 'archive size',
        value: Number(size.rows[0].b) / 1e9,
        unit: 'GB',
        note: 'events + indexes + hourly counts',
      },
    )

    // 2. archiver ingest (Redis → PostgreSQL) ------------------------------------
    // the bulk load's dirty pages written out first, so its checkpoint does not land in this measurement
    await admin.query('CHECKPOINT').catch((err) => ctx.log(`CHECKPOINT skipped: ${err.message}`))
    await redis.set(keys.epoch, JSON.stringify({ epoch: 'be0c000000000002', floorId: '0-0' }))
    const channels = [...world.channels, 'simulation_control']
    const writer = createStreamWriter({ redis, keys, maxLen: 5_000_000 })
    const later = createEngine({ world, seed: 43, start: START + 40 * DAY })
    const ids = createIdSequence()
    const enc2 = createEnvelopeEncoder('tutoring', ids)
    let queued = 0
    while (queued < 1_000_000) {
      const events = later.advance(later.now + HOUR)
      for (let i = 0; i < events.length; i += 10_000) {
        await writer.write(events.slice(i, i + 10_000).map((e) => enc2(e, Date.now())))
      }
      queued += events.length
    }
    ctx.log(`${queued.toLocaleString('en-US')} events on the Redis streams; archiving`)
    const conn = new Redis(redisUrl, { maxRetriesPerRequest: null })
    let archived = 0
    const a = new Archiver({
      redis: conn,
      keys,
      world: 'tutoring',
      channels,
      store,
      log: silent,
      entityFields,
      writers: WRITERS,
      onCommit: (batch) => (archived += batch.length),
    })
    const t1 = performance.now()
    await a.start()
    while (archived < queued) await new Promise((r) => setTimeout(r, 50))
    const ingestS = (performance.now() - t1) / 1000
    rows.push({
      name: 'archiver ingest (Redis → PostgreSQL)',
      value: queued / ingestS,
      unit: 'events/s',
      target: '≥ 50,000',
      note: `${queued.toLocaleString('en-US')} events queued, batches of 10,000`,
    })

    await a.close()
    conn.disconnect()

    // 3. lag at 10,000 events/s -------------------------------------------------------
    const lags = []
    const conn2 = new Redis(redisUrl, { maxRetriesPerRequest: null })
    const b = new Archiver({
      redis: conn2,
      keys,
      world: 'tutoring',
      channels,
      store,
      log: silent,
      entityFields,
      onCommit: (batch, at) => {
        for (const r of batch) lags.push(at - Number(r.id.split('-')[0]))
      },
    })
    await b.start()
    let publishing = true
    let published = 0
    const pub = (async () => {
      const startedAt = performance.now()
      let pending = []
      while (publishing) {
        const due = Math.floor(((performance.now() - startedAt) / 1000) * 10_000)
        while (pending.length < due - published)
          pending = pending.concat(later.advance(later.now + 60_000))
        const n = due - published
        if (n > 0) {
          await writer.write(pending.slice(0, n).map((e) => enc2(e, Date.now())))
          pending = pending.slice(n)
          published += n
        }
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    await new Promise((r) => setTimeout(r, 60_000))
    publishing = false
    await pub
    const deadline = Date.now() + 30_000
    while (lags.length < published && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    await b.close()
    conn2.disconnect()
    const measured = lags
    rows.push(
      {
        name: 'lag at 10,000 events/s: p50',
        value: pct(measured, 0.5),
        unit: 'ms',
        note: `${published.toLocaleString('en-US')} events over 60 s, ${measured.length.toLocaleString('en-US')} archived`,
      },
      {
        name: 'lag at 10,000 events/s: p99',
        value: pct(measured, 0.99),
        unit: 'ms',
        target: '≤ 2,000',
      },
    )

    // 4. queries through the gateway ----------------------------------------------------
    await redis.set(keys.epoch, JSON.stringify({ epoch, floorId: '0-0' }))
    await redis.set(keys.catalog, JSON.stringify(world.catalog))
    await writeWorldDescription(
      redis,
      keys,
      createEngine({ world, seed: 1, start: START }).describe(),
    )
    const app = await buildApp(
      loadConfig({
        REDIS_URL: redisUrl,
        VERISIM_PREFIX: prefix,
        DATABASE_URL: db.url,
        ARCHIVE_SCHEMA: SCHEMA,
        LOG_LEVEL: 'silent',
        VERISIM_RATE_LIMIT_MAX: '0',
      }),
      silent,
    )
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${app.server.address().port}`
    for (let i = 0; i < 100 && app.streams.notReadyReason() !== null; i++)
      await new Promise((r) => setTimeout(r, 50))
    // 100 students who had a session in the middle of the run (one day's partition, by index)
    const mid = START + Math.floor(DAYS / 2) * DAY
    const students = (
      await admin.query(
        `SELECT DISTINCT envelope->'data'->>'studentId' AS id FROM ${SCHEMA}.events
         WHERE stream = 'session.completed' AND ts >= $1 AND ts < $2 LIMIT 100`,
        [new Date(mid).toISOString(), new Date(mid + DAY).toISOString()],
      )
    ).rows.map((r) => r.id)
    const get = async (path) => {
      const s = performance.now()
      const res = await fetch(base + path)
      const body = await res.json()
      if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`)
      return [performance.now() - s, body]
    }
    await get(`/api/journeys/${students[0]}`) // warm
    const journeys = []
    let sizes = 0
    for (const id of students) {
      const [ms, j] = await get(`/api/journeys/${encodeURIComponent(id)}`)
      journeys.push(ms)
      sizes += j.total
    }
    const aggregates = []
    for (let i = 0; i < 50; i++) {
      const end = START + 7 * DAY + Math.floor(((DAYS - 7) * DAY * i) / 50 / HOUR) * HOUR
      const [ms] = await get(
        `/api/metrics/aggregate?start=${new Date(end - 7 * DAY).toISOString()}&end=${new Date(end).toISOString()}&group_by=day`,
      )
      aggregates.push(ms)
    }
    await app.close()
    rows.push(
      {
        name: 'journey (30 days): p50',
        value: pct(journeys, 0.5),
        unit: 'ms',
        note: `${students.length} students, ${Math.round(sizes / students.length)} events each on average`,
      },
      { name: 'journey (30 days): p95', value: pct(journeys, 0.95), unit: 'ms', target: '≤ 50' },
      {
        name: 'aggregate (7 days): p50',
        value: pct(aggregates, 0.5),
        unit: 'ms',
        note: '50 windows, group_by=day, with the world KPIs',
      },
      {
        name: 'aggregate (7 days): p95',
        value: pct(aggregates, 0.95),
        unit: 'ms',
        target: '≤ 200',
      },
    )
  } finally {
    await deletePrefix(redis, prefix)
    redis.disconnect()
    await store.close()
    if (process.env.VERISIM_BENCH_KEEP !== '1')
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
    await admin.end()
    await db.stop()
  }
  return rows
}
