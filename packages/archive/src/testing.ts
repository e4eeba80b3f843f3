/**
 * For tests (`@verisim/archive/testing`): a PostgreSQL found as the archive
 * finds one, and a schema of the test's own, dropped afterwards (runs sharing
 * a server never touch each other's tables).
 *
 * @example
 * let t: TestArchive
 * beforeAll(async () => { t = await openTestArchive() })
 * afterAll(() => t.close())
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { discoverPostgres, type PostgresHandle } from './discovery.js'
import { migrateArchive } from './migrate.js'
import { ArchiveStore } from './store.js'

export interface TestArchive {
  handle: PostgresHandle
  url: string
  schema: string
  store: ArchiveStore
  /** Drops the schema, closes the store, stops a server discovery started. */
  close(): Promise<void>
}

/** A fresh schema name (`t_<8 hex>`). */
export function testSchema(): string {
  return `t_${randomBytes(4).toString('hex')}`
}

export async function openTestArchive(schema = testSchema()): Promise<TestArchive> {
  const handle = await discoverPostgres({ allowContainer: true })
  await migrateArchive(handle.url, { schema })
  const store = new ArchiveStore({ url: handle.url, schema })
  return {
    handle,
    url: handle.url,
    schema,
    store,
    async close() {
      await store.close().catch(() => undefined)
      const c = new pg.Client({ connectionString: handle.url })
      await c.connect()
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      } finally {
        await c.end()
      }
      await handle.stop()
    },
  }
}
