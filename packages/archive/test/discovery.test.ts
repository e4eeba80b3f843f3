import { statSync } from 'node:fs'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { discoverPostgres, probe, PostgresUnavailableError } from '../src/discovery.js'

describe('discoverPostgres', () => {
  it('should report a DATABASE_URL that does not answer, not fall back', async () => {
    const err = await discoverPostgres({
      env: { DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/x', PATH: process.env.PATH },
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PostgresUnavailableError)
    expect((err as Error).message).toMatch(
      /DATABASE_URL is set to postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x/,
    )
    expect((err as Error).message).not.toContain('secret')
  })

  it('should say how to get one when there is none and nothing to start', async () => {
    const err = await discoverPostgres({
      env: { PATH: '/nonexistent' },
      defaultUrl: 'postgres://postgres@127.0.0.1:1/postgres',
    }).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(
      /No PostgreSQL available: .*no postgres and initdb on PATH/s,
    )
    expect((err as Error).message).toMatch(/set DATABASE_URL/)
  })

  it.skipIf(!process.env.PATH?.split(':').some((d) => d && isFile(`${d}/initdb`)))(
    'should start one from PATH in a temporary directory and remove it on stop',
    async () => {
      const logs: string[] = []
      const h = await discoverPostgres({
        env: { PATH: process.env.PATH },
        defaultUrl: 'postgres://postgres@127.0.0.1:1/postgres',
        log: (m) => logs.push(m),
      })
      try {
        expect(h.source).toBe('spawned')
        await probe(h.url, 2000)
        expect(logs.join('\n')).toMatch(/postgres: started .* removed at exit/)
        // a crash and a restart keep what was committed
        await probe(h.url, 2000)
        const c = new pg.Client({ connectionString: h.url })
        await c.connect()
        await c.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)')
        await c.end()
        await h.restart!({ crash: true })
        const d = new pg.Client({ connectionString: h.url })
        d.on('error', () => undefined)
        await d.connect()
        expect((await d.query('SELECT n FROM kept')).rows).toEqual([{ n: 7 }])
        await d.end()
      } finally {
        await h.stop()
      }
      await expect(probe(h.url, 1000)).rejects.toThrow()
    },
    60_000,
  )
})

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}
