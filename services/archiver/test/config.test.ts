import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

describe('archiver settings', () => {
  it('should default to one archiver consumer writing batches of 10,000 into public', () => {
    expect(loadConfig({})).toMatchObject({
      port: 8082,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      schema: 'public',
      consumer: 'archiver-1',
      batchSize: 10_000,
      flushMs: 200,
      writers: 2,
    })
  })

  it('should refuse a bad value naming the variable and what was expected', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL="mysql:\/\/x" is invalid; expected a postgres:\/\/ or postgresql:\/\/ URL/,
    )
    expect(() => loadConfig({ ARCHIVE_SCHEMA: 'Drop Table' })).toThrow(ConfigError)
    expect(() => loadConfig({ ARCHIVER_BATCH: '0' })).toThrow(
      /ARCHIVER_BATCH="0" is invalid; expected an integer from 1 to 100000/,
    )
    expect(() => loadConfig({ ARCHIVER_WRITERS: '9' })).toThrow(/ARCHIVER_WRITERS/)
  })
})
