import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiError, createApi, isUnavailable } from '../src/lib/api.js'

interface Call {
  url: string
  init: RequestInit
}

function fakeFetch(responses: [number, unknown][]) {
  const calls: Call[] = []
  const fn = async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} })
    const [status, body] = responses.shift() ?? [500, {}]
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    })
  }
  return { fn: fn as typeof fetch, calls }
}

const store = new Map<string, string>()
beforeEach(() => {
  store.clear()
  ;(globalThis as { sessionStorage?: unknown }).sessionStorage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  }
})
afterEach(() => {
  delete (globalThis as { sessionStorage?: unknown }).sessionStorage
})

const header = (c: Call, name: string) => (c.init.headers as Record<string, string>)[name]

describe('api', () => {
  it('should ask for the token on a 401, retry with it under the same Idempotency-Key, and keep it', async () => {
    const f = fakeFetch([
      [
        401,
        { error: { code: 'VS_GW_UNAUTHORIZED', message: 'this endpoint needs the admin token' } },
      ],
      [200, { paused: true }],
    ])
    const asked: string[] = []
    const api = createApi({ fetch: f.fn, askToken: async (m) => (asked.push(m), 'secret') })
    expect(await api.post('/api/simulation/pause')).toEqual({ paused: true })
    expect(asked).toEqual(['this endpoint needs the admin token'])
    expect(header(f.calls[1]!, 'authorization')).toBe('Bearer secret')
    expect(header(f.calls[0]!, 'idempotency-key')).toMatch(/^[0-9a-f]{32}$/)
    expect(header(f.calls[1]!, 'idempotency-key')).toBe(header(f.calls[0]!, 'idempotency-key'))
    expect(store.get('verisim:adminToken')).toBe('secret')
  })

  it('should give up when the token prompt is cancelled', async () => {
    const f = fakeFetch([[401, { error: { code: 'VS_GW_UNAUTHORIZED', message: 'no' } }]])
    const api = createApi({ fetch: f.fn, askToken: async () => null })
    await expect(api.post('/api/simulation/pause')).rejects.toMatchObject({ status: 401 })
  })

  it('should mark a missing route or an unsupported action as unavailable, not as other 404s', async () => {
    const f = fakeFetch([
      [
        404,
        { error: { code: 'VS_GW_NOT_FOUND', message: 'no route GET /api/simulation/history' } },
      ],
      [501, { error: { code: 'VS_GEN_NOT_SUPPORTED', message: 'action not supported' } }],
      [404, { error: { code: 'VS_SIM_UNKNOWN_SCENARIO', message: 'unknown scenario "x"' } }],
    ])
    const api = createApi({ fetch: f.fn })
    const errs = await Promise.all([
      api.get('/api/simulation/history').catch((e: unknown) => e),
      api.get('/api/simulation/statistics').catch((e: unknown) => e),
      api.post('/api/simulation/scenario', { scenarioId: 'x' }).catch((e: unknown) => e),
    ])
    expect(errs.map(isUnavailable)).toEqual([true, true, false])
    expect((errs[2] as ApiError).message).toBe('unknown scenario "x"')
  })

  it('should send a DELETE without a body, with an Idempotency-Key, and show the refusal', async () => {
    const f = fakeFetch([
      [200, { deleted: 'snap_2' }],
      [409, { error: { code: 'VS_GEN_SNAPSHOT_PROTECTED', message: "snap_1 is the run's start" } }],
    ])
    const api = createApi({ fetch: f.fn })
    expect(await api.delete('/api/simulation/snapshots/snap_2')).toEqual({ deleted: 'snap_2' })
    expect(f.calls[0]!.init.method).toBe('DELETE')
    expect(f.calls[0]!.init.body).toBeUndefined()
    expect(header(f.calls[0]!, 'content-type')).toBeUndefined()
    expect(header(f.calls[0]!, 'idempotency-key')).toMatch(/^[0-9a-f]{32}$/)
    const err = await api.delete('/api/simulation/snapshots/snap_1').catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 409, code: 'VS_GEN_SNAPSHOT_PROTECTED' })
    expect(isUnavailable(err)).toBe(false)
  })

  it('should build query strings and skip empty values', async () => {
    const f = fakeFetch([[200, {}]])
    await createApi({ fetch: f.fn }).get('/api/x', { a: '1 2', b: undefined, c: '' })
    expect(f.calls[0]!.url).toBe('/api/x?a=1%202')
  })
})
