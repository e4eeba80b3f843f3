import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './helpers.js'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h?.close()
})

describe('OpenAPI', () => {
  it('should describe the REST routes at /docs/json and serve the UI at /docs', async () => {
    const doc = (await (await fetch(`${h.url}/docs/json`)).json()) as {
      openapi: string
      paths: Record<string, Record<string, unknown>>
    }
    expect(doc.openapi).toMatch(/^3\./)
    for (const path of [
      '/api/streams',
      '/api/simulation/state',
      '/api/simulation/speed',
      '/api/simulation/pause',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path)
    }
    const speed = doc.paths['/api/simulation/speed']!.post as { requestBody: unknown }
    expect(JSON.stringify(speed.requestBody)).toContain('multiplier')
    const ui = await fetch(`${h.url}/docs/`)
    expect(ui.status).toBe(200)
    expect(await ui.text()).toContain('<html')
  })
})
