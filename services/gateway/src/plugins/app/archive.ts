/**
 * The archive as the gateway reads it (`app.archive`): a small PostgreSQL pool
 * when DATABASE_URL is set. Routes that need it call `pool()`, which answers a
 * 503 `VS_GW_ARCHIVE_UNAVAILABLE` naming the reason (off, unreachable, not
 * migrated yet) instead of failing; the rest of the gateway never waits on it.
 */
import fp from 'fastify-plugin'
import pg from 'pg'
import { ArchiveUnavailableError } from '../../errors.js'

export interface GatewayArchive {
  /** Whether DATABASE_URL is set. */
  readonly enabled: boolean
  /** The pool, once the archive answered and has its tables; throws a 503 error otherwise. */
  pool(): Promise<pg.Pool>
  /** Why the archive cannot answer now; null when it can. Checks again at most every 5 s. */
  unavailableReason(): Promise<string | null>
}

declare module 'fastify' {
  interface FastifyInstance {
    archive: GatewayArchive
  }
}

const RECHECK_MS = 5000

export default fp(
  async (app) => {
    const { databaseUrl, archiveSchema } = app.config
    if (databaseUrl === null) {
      const reason =
        'the archive is off: DATABASE_URL is not set (npm start sets it when it finds or starts a PostgreSQL; see README "The archive")'
      app.decorate('archive', {
        enabled: false,
        pool: async () => {
          throw new ArchiveUnavailableError(reason)
        },
        unavailableReason: async () => reason,
      } satisfies GatewayArchive)
      return
    }
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: 4,
      options: `-c search_path=${archiveSchema} -c statement_timeout=30000`,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
    })
    pool.on('error', (err) => app.log.warn({ err: err.message }, 'archive connection error'))
    let checkedAt = 0
    let reason: string | null = 'the archive has not been checked yet'
    let checking: Promise<string | null> | null = null
    /** One check at a time: concurrent callers share it. */
    const check = (): Promise<string | null> => {
      if (reason === null || (checking === null && Date.now() - checkedAt < RECHECK_MS)) {
        return Promise.resolve(reason)
      }
      checking ??= recheck().finally(() => (checking = null))
      return checking
    }
    const recheck = async (): Promise<string | null> => {
      checkedAt = Date.now()
      try {
        const { rows } = await pool.query<{ t: string | null }>(
          `SELECT to_regclass('events_hourly')::text AS t`,
        )
        reason =
          rows[0]?.t == null
            ? `the archive has no tables in schema "${archiveSchema}" yet: the archiver creates them when it starts (is it running?)`
            : null
      } catch (err) {
        reason = `the archive's PostgreSQL did not answer: ${(err as Error).message}`
      }
      if (reason !== null) app.log.warn({ reason }, 'archive unavailable')
      return reason
    }
    app.decorate('archive', {
      enabled: true,
      async pool() {
        const r = await check()
        if (r !== null) throw new ArchiveUnavailableError(r)
        return pool
      },
      unavailableReason: check,
    } satisfies GatewayArchive)
    app.addHook('onClose', async () => {
      await pool.end()
    })
  },
  { name: 'archive', dependencies: ['config'] },
)
