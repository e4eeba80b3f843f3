/**
 * @verisim/archive — every event kept in PostgreSQL: finding a database, the
 * schema's migrations, and idempotent writes and reads of archived events.
 */
export * from './discovery.js'
export * from './migrate.js'
export * from './store.js'
export * from './rows.js'
export * from './schema.js'
