/**
 * External-event routes that the gateway answers from Redis itself: the
 * library of templates the generator publishes (503 until it has).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExternalEventTemplateInfo } from '@verisim/schema'
import { startHarness, type Harness } from './helpers.js'

const TEMPLATES: ExternalEventTemplateInfo[] = [
  {
    id: 'tiktok-mention',
    category: 'marketing',
    title: 'Platform mentioned in a viral TikTok',
    description: 'A short video sends a burst of visitors.',
    severity: 'info',
    icon: '🎵',
    redHerring: false,
    timing: 'Evenings and weekends.',
    expectedImpact: {
      streams: ['marketing.landing.visit', 'customer.signup'],
      direction: 'increase',
      magnitude: 'high',
      delay: 'PT0S',
      duration: 'PT6H',
    },
  },
  {
    id: 'industry-report',
    category: 'competitive',
    title: 'Industry report on online tutoring published',
    description: 'Analysts publish a report; nothing changes.',
    severity: 'info',
    icon: '📊',
    redHerring: true,
    expectedImpact: {
      streams: ['customer.tutor.search'],
      direction: 'mixed',
      magnitude: 'low',
      delay: 'PT0S',
      duration: 'P1D',
    },
  },
]

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h?.close()
})

describe('GET /api/events/templates', () => {
  it('should answer 503 while the generator has not published the library', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/events/templates' })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({
      error: {
        code: 'VS_GW_NOT_READY',
        message: expect.stringMatching(/no external-event library yet/),
      },
    })
  })

  it('should list the templates the generator published, without fields it does not describe', async () => {
    const stored = TEMPLATES.map((t) => ({ ...t, modifiers: [{ stream: 'x.y', value: 2 }] }))
    await h.redis.set(h.keys.templates, JSON.stringify(stored))
    const res = await h.app.inject({ method: 'GET', url: '/api/events/templates' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ templates: TEMPLATES })
  })

  it('should be described in the OpenAPI document', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/json' })
    const doc = res.json() as { paths: Record<string, { get?: { responses: object } }> }
    const get = doc.paths['/api/events/templates']?.get
    expect(get).toBeDefined()
    expect(Object.keys(get!.responses)).toEqual(expect.arrayContaining(['200', '503']))
    expect(JSON.stringify(get!.responses)).toContain('expectedImpact')
  })
})
