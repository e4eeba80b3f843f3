/**
 * Scenarios end to end: REST activates a scenario on the running generator, its
 * events carry the ground truth, BullMQ moves it through settling to settled at
 * simulation speed, every transition lands in the control log, a settling
 * scenario is replaced by the next one (409 only while one is active), and reset
 * restores the baseline. External events and correlations over REST.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestClient, rest, startStack, type Envelope, type Stack, until } from './harness.js'

let stack: Stack

beforeAll(async () => {
  // One simulated hour per wall second: a scenario's hours pass in seconds.
  stack = await startStack({
    env: { VERISIM_SPEED: '3600', VERISIM_START: '2026-11-02T08:00:00Z' },
  })
})
afterAll(async () => {
  await stack?.stop()
})

const { call, state } = rest(() => stack)

describe('scenarios over REST', () => {
  it('should list the nine scenarios of the world', async () => {
    const { status, body } = await call('GET', '/api/simulation/scenarios')
    expect(status).toBe(200)
    const ids = (body.scenarios as { id: string }[]).map((s) => s.id)
    expect(ids).toEqual(
      expect.arrayContaining([
        'exam-season-surge',
        'supply-crisis',
        'payment-outage',
        'quality-crisis',
        'support-overload',
        'churn-pattern',
        'recruiting-crisis',
        'competitor-disruption',
        'normal-operations',
      ]),
    )
    for (const s of body.scenarios)
      expect(s).toMatchObject({ name: expect.any(String), duration: expect.stringMatching(/^P/) })
  })

  it('should refuse an unknown scenario with 404 and stop with nothing active with 409', async () => {
    const unknown = await call('POST', '/api/simulation/scenario', { scenarioId: 'nope' })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.message).toContain('nope')
    const stop = await call('POST', '/api/simulation/stop')
    expect(stop.status).toBe(409)
  })

  it('should run a scenario through active, settling and settled, with causes and a control log', async () => {
    const watcher = new TestClient(stack.wsUrl)
    await watcher.opened
    watcher.send({ type: 'subscribe', topics: ['*', 'external-events', 'simulation_control'] })

    const started = await call('POST', '/api/simulation/scenario', { scenarioId: 'payment-outage' })
    expect(started.status, JSON.stringify(started.body)).toBe(200)
    expect(started.body).toMatchObject({
      success: true,
      scenario: { id: 'payment-outage' },
      estimatedDuration: expect.stringMatching(/^P/),
    })
    expect(Array.isArray(started.body.events)).toBe(true)

    const again = await call('POST', '/api/simulation/scenario', {
      scenarioId: 'exam-season-surge',
    })
    expect(again.status).toBe(409)

    expect((await state()).scenario).toMatchObject({ id: 'payment-outage', status: 'active' })
    expect((await state()).activeModifiers.length).toBeGreaterThan(0)

    // Shaped events say so.
    await watcher.waitFor(
      () =>
        watcher.events.find((e: Envelope) =>
          (e.causes as string[] | undefined)?.includes('scenario:payment-outage'),
        ),
      20_000,
      'an event caused by the scenario',
    )

    // BullMQ moves it on in simulation time: active → settling → settled.
    await until(async () => (await state()).scenario?.status === 'settling', 60_000, 'settling')
    await until(
      async () => {
        const s = (await state()).scenario
        return s === null || s?.status === 'settled'
      },
      60_000,
      'settled',
    )

    const log = await stack.redis.xrange(`${stack.prefix}:{tutoring}:control:log`, '-', '+')
    const entries = log.map(([, f]) => ({
      a: f[f.indexOf('a') + 1],
      p: f[f.indexOf('p') + 1],
      sim: f[f.indexOf('sim') + 1],
    }))
    expect(entries.map((e) => e.a)).toEqual(
      expect.arrayContaining(['set_scenario', 'scenario_transition']),
    )
    const transitions = entries
      .filter((e) => e.a === 'scenario_transition')
      .map((e) => JSON.parse(e.p!).to)
    expect(transitions).toEqual(['settling', 'settled'])
    // The control channel carried the acks and states, in id order with the events.
    expect(watcher.events.some((e) => e.stream === 'simulation.state')).toBe(true)
    await watcher.close()
  })

  it('should replace a settling scenario over REST and WS, and say so in the answer and the control message', async () => {
    const watcher = new TestClient(stack.wsUrl)
    await watcher.opened
    watcher.send({ type: 'subscribe', topics: ['simulation_control'] })
    await watcher.waitFor(() => watcher.message('subscribed'), 10_000, 'subscribed')

    // exam-season-surge settles over 8 simulated hours: slow down so it is still settling when replaced
    expect((await call('POST', '/api/simulation/speed', { multiplier: 60 })).status).toBe(200)
    try {
      await replaceWhileSettling(watcher)
    } finally {
      await call('POST', '/api/simulation/reset')
      await call('POST', '/api/simulation/speed', { multiplier: 3600 })
      await watcher.close()
    }
  })

  async function replaceWhileSettling(watcher: TestClient): Promise<void> {
    const first = await call('POST', '/api/simulation/scenario', {
      scenarioId: 'exam-season-surge',
    })
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(first.body.replaced).toBeUndefined()
    // still active: refused
    const refused = await call('POST', '/api/simulation/scenario', { scenarioId: 'payment-outage' })
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('VS_SIM_SCENARIO_ACTIVE')
    expect((await call('POST', '/api/simulation/stop')).status).toBe(200)
    expect((await state()).scenario).toMatchObject({ runId: first.body.runId, status: 'settling' })

    // WS: the settling run is replaced by a new run of the same scenario
    watcher.send({
      type: 'control',
      requestId: 'replace-1',
      action: 'set_scenario',
      payload: { scenarioId: 'exam-season-surge' },
    })
    const ack = await watcher.waitFor(
      () => watcher.messages.find((m) => m.requestId === 'replace-1' && m.type !== 'subscribed'),
      30_000,
      'the answer to replace-1',
    )
    const replacedFirst = {
      scenarioId: 'exam-season-surge',
      runId: first.body.runId,
      phase: 'settling',
    }
    expect(ack).toMatchObject({ success: true, result: { replaced: replacedFirst } })
    const second = (ack.result as { runId: string }).runId
    expect(second).not.toBe(first.body.runId)
    expect((await state()).scenario).toMatchObject({ runId: second, status: 'active' })

    // REST: stop it, and replace it while it settles
    expect((await call('POST', '/api/simulation/stop')).status).toBe(200)
    const third = await call('POST', '/api/simulation/scenario', { scenarioId: 'payment-outage' })
    expect(third.status, JSON.stringify(third.body)).toBe(200)
    expect(third.body).toMatchObject({
      success: true,
      scenario: { id: 'payment-outage' },
      replaced: { scenarioId: 'exam-season-surge', runId: second, phase: 'settling' },
    })
    const s = await state()
    expect(s.scenario).toMatchObject({ id: 'payment-outage', status: 'active' })
    expect(
      (s.activeModifiers as { source: string }[]).some(
        (m) => m.source === 'scenario:exam-season-surge',
      ),
    ).toBe(false)

    // the simulation_control channel carried both answers
    const acks = await watcher.waitFor(
      () => {
        const found = watcher.events.filter(
          (e) =>
            e.stream === 'simulation.ack' &&
            (e.data as { action?: string }).action === 'set_scenario' &&
            (e.data as { result?: { replaced?: unknown } }).result?.replaced !== undefined,
        )
        return found.length >= 2 ? found : undefined
      },
      30_000,
      'two simulation.ack messages naming the replaced run',
    )
    expect(acks.map((e) => (e.data as { result: { replaced: unknown } }).result.replaced)).toEqual([
      replacedFirst,
      { scenarioId: 'exam-season-surge', runId: second, phase: 'settling' },
    ])
  }

  it('should stop a scenario into settling and reset to baseline', async () => {
    const started = await call('POST', '/api/simulation/scenario', {
      scenarioId: 'exam-season-surge',
    })
    expect(started.status).toBe(200)
    const stopped = await call('POST', '/api/simulation/stop')
    expect(stopped.status).toBe(200)
    expect(Date.parse(stopped.body.settlingUntil)).toBeGreaterThan(0)
    expect((await state()).scenario).toMatchObject({ status: 'settling' })
    const reset = await call('POST', '/api/simulation/reset')
    expect(reset.status).toBe(200)
    expect(reset.body).toMatchObject({ success: true, message: expect.any(String) })
    const s = await state()
    expect(s.scenario).toBeNull()
    expect(s.activeModifiers).toEqual([])
  })
})

describe('external events over REST', () => {
  it("should list the world's external-event library", async () => {
    const { status, body } = await call('GET', '/api/events/templates')
    expect(status).toBe(200)
    const templates = body.templates as Record<string, unknown>[]
    expect(templates.length).toBeGreaterThan(20)
    expect(templates.find((t) => t.id === 'tiktok-mention')).toMatchObject({
      category: 'marketing',
      title: expect.any(String),
      icon: expect.any(String),
      redHerring: false,
      expectedImpact: { streams: expect.any(Array), direction: 'increase' },
    })
    expect(templates.some((t) => t.redHerring === true)).toBe(true)
    expect(templates.every((t) => !('modifiers' in t))).toBe(true)
  })

  it('should inject a future event from a template, list it, and answer correlations', async () => {
    const now = Date.parse((await state()).currentSimulationTime)
    const lib = await call('POST', '/api/events/external', {
      templateId: 'tiktok-mention',
      timestamp: new Date(now + 3_600_000).toISOString(),
    })
    expect(lib.status, JSON.stringify(lib.body)).toBe(200)
    const event = lib.body
    expect(event).toMatchObject({ id: expect.any(String) })
    const listed = await call('GET', '/api/events/external')
    expect(listed.status).toBe(200)
    expect((listed.body.events as { id: string }[]).map((e) => e.id)).toContain(event.id)
    const corr = await call('GET', `/api/correlations?event=${encodeURIComponent(event.id)}`)
    expect(corr.status).toBe(200)
    expect(Array.isArray(corr.body.results)).toBe(true)
    const bad = await call('GET', '/api/correlations')
    expect(bad.status).toBe(400)
  })

  it('should reject an injected event without a valid timestamp naming the field', async () => {
    const r = await call('POST', '/api/events/external', { templateId: 'x' })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toContain('timestamp')
  })
})
