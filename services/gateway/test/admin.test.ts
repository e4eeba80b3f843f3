/**
 * The /admin route: serves a built page (index, hashed assets, precompressed
 * variants, cache headers) and answers 503 with a way out when none is built.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import Fastify from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import admin, { ADMIN_CANDIDATES, findAdminRoot } from '../src/routes/admin/index.js'

const dir = mkdtempSync(path.join(tmpdir(), 'vs-admin-'))
const html =
  '<!doctype html><title>Verisim admin</title><script type="module" src="/admin/assets/app-abc.js"></script>'
const js = 'console.log("admin page")\n'.repeat(50)
mkdirSync(path.join(dir, 'assets'))
writeFileSync(path.join(dir, 'index.html'), html)
writeFileSync(path.join(dir, 'assets/app-abc.js'), js)
writeFileSync(path.join(dir, 'assets/app-abc.js.gz'), gzipSync(js))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function appWith(root: string) {
  const app = Fastify()
  await app.register(admin, { root })
  await app.ready()
  return app
}

describe('admin route', () => {
  it('should redirect /admin to /admin/ and serve index.html there, never cached', async () => {
    const app = await appWith(dir)
    const r1 = await app.inject('/admin')
    expect(r1.statusCode).toBeGreaterThanOrEqual(301)
    expect(r1.statusCode).toBeLessThan(309)
    expect(r1.headers.location).toBe('/admin/')
    const r2 = await app.inject('/admin/')
    expect(r2.statusCode).toBe(200)
    expect(r2.headers['content-type']).toContain('text/html')
    expect(r2.headers['cache-control']).toBe('no-cache')
    expect(r2.body).toBe(html)
    await app.close()
  })

  it('should serve hashed assets as immutable, gzip-encoded when the client accepts it', async () => {
    const app = await appWith(dir)
    const plain = await app.inject('/admin/assets/app-abc.js')
    expect(plain.statusCode).toBe(200)
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(plain.body).toBe(js)
    const gz = await app.inject({
      url: '/admin/assets/app-abc.js',
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(gz.statusCode).toBe(200)
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gz.rawPayload.length).toBeLessThan(js.length)
    expect((await app.inject('/admin/assets/missing.js')).statusCode).toBe(404)
    await app.close()
  })

  it('should answer 503 saying to run pnpm build when the page is not built', async () => {
    const app = await appWith(path.join(dir, 'nope'))
    for (const url of ['/admin', '/admin/', '/admin/assets/app.js']) {
      const r = await app.inject(url)
      expect(r.statusCode).toBe(503)
      const body = r.json() as { error: { code: string; message: string } }
      expect(body.error.code).toBe('VS_GW_ADMIN_NOT_BUILT')
      expect(body.error.message).toContain('pnpm build')
    }
    await app.close()
  })

  it('should look in the Docker copy first, then the workspace build', () => {
    expect(ADMIN_CANDIDATES[0]).toMatch(/public[\\/]admin$/)
    expect(ADMIN_CANDIDATES[1]).toMatch(/packages[\\/]dashboard[\\/]dist$/)
    expect(findAdminRoot([path.join(dir, 'nope'), dir])).toBe(dir)
    expect(findAdminRoot([path.join(dir, 'nope')])).toBeNull()
  })
})
