/**
 * The archive's schema, managed by versioned migrations (node-pg-migrate,
 * `migrations/` of this package). Safe to run from several processes at once:
 * the runner takes an advisory lock.
 */
import { fileURLToPath } from 'node:url'
import { runner } from 'node-pg-migrate'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url))
export const MIGRATIONS_TABLE = 'archive_migrations'

export interface MigrateOptions {
  /** PostgreSQL schema the archive lives in (made when missing). Default `public`. */
  schema?: string
  /** One line per migration applied; silent when omitted. */
  log?: (msg: string) => void
}

/** Applies every migration not yet applied; returns their names (empty when up to date). */
export async function migrateArchive(url: string, opts: MigrateOptions = {}): Promise<string[]> {
  const schema = opts.schema ?? 'public'
  const log = opts.log ?? (() => {})
  const applied = await runner({
    databaseUrl: url,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    schema,
    createSchema: true,
    checkOrder: true,
    logger: { debug: () => {}, info: () => {}, warn: (m) => log(m), error: (m) => log(m) },
  })
  for (const m of applied) log(`archive: migration ${m.name} applied`)
  return applied.map((m) => m.name)
}
