/**
 * The WebSocket control action `adjust_behavior` through real processes: the
 * admin page's stream-modifier payload is acknowledged with the modifier and the
 * state, the modifier shows in the REST state and in the causes of the events it
 * shapes, bad payloads get an error naming the field, and clear / reset remove it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, TestClient, type Stack } from './harness.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({ env: { VERISIM_SPEED: '600' } })
})
afterAll(async () => {
  await stack?.stop()
})

const state = async () =>
  (await (await fetch(`${stack.gatewayUrl}/api/simulation/state`)).json()) as Record<string, any>

async function control(
  c: TestClient,
  requestId: string,
  payload: Record<string, unknown>,
): Promise<Record<string, any>> {
  c.send({ type: 'control', requestId, action: 'adjust_behavior', payload })
  return c.waitFor(
    () => c.messages.find((m) => m.requestId === requestId && m.type !== 'subscribed'),
    15_000,
    `the answer to ${requestId}`,
  ) as Promise<Record<string, any>>
}

describe('adjust_behavior over WebSocket', () => {
  it('should apply a stream modifier, list it, mark the events it shapes, and clear it', async () => {
    const c = new TestClient(stack.wsUrl)
    await c.opened
    c.send({ type: 'subscribe', topics: ['customer.tutor.search'] })
    await c.waitFor(() => c.message('subscribed'), 10_000, 'subscribed')

    // what the admin page's form sends
    const ack = await control(c, 'adj-1', {
      stream: 'customer.tutor.search',
      type: 'multiplier',
      target: 'rate',
      value: 3,
      duration: 'PT2H',
    })
    expect(ack).toMatchObject({ type: 'ack', success: true })
    const { modifier, state: after } = ack.result as Record<string, any>
    expect(modifier).toMatchObject({ id: 'mod_1', cause: 'manual:mod_1', duration: 'PT2H' })
    expect(Date.parse(modifier.endsAt) - Date.parse(modifier.startTime)).toBe(2 * 3_600_000)
    expect(after.activeModifiers).toContainEqual(
      expect.objectContaining({ source: 'manual:mod_1', status: 'active', id: 'mod_1' }),
    )
    expect((await state()).activeModifiers).toContainEqual(
      expect.objectContaining({ source: 'manual:mod_1' }),
    )
    const marked = await c.waitFor(
      () => c.events.find((e) => (e.causes as string[] | undefined)?.includes('manual:mod_1')),
      15_000,
      'an event with the cause manual:mod_1',
    )
    expect(Date.parse(marked.timestamp)).toBeGreaterThanOrEqual(Date.parse(modifier.startTime))

    const bad = await control(c, 'adj-2', {
      stream: 'customer.nothing',
      type: 'multiplier',
      value: 2,
    })
    expect(bad).toMatchObject({ type: 'error', code: 'VS_SIM_BAD_ARGUMENT' })
    expect(bad.message).toMatch(/^stream: expected a stream of world tutoring/)
    const invalid = await control(c, 'adj-3', {
      stream: 'customer.tutor.search',
      type: 'multiplier',
      value: 'x',
    })
    expect(invalid).toMatchObject({ type: 'error', code: 'VS_GEN_INVALID_PAYLOAD' })
    expect(invalid.message).toContain('/value')

    const cleared = await control(c, 'adj-4', { clear: 'mod_1' })
    expect(cleared).toMatchObject({ success: true, result: { cleared: [{ id: 'mod_1' }] } })
    expect(cleared.result.state.activeModifiers).toEqual([])
    await c.close()
  })

  it('should be removed by reset', async () => {
    const c = new TestClient(stack.wsUrl)
    await c.opened
    const ack = await control(c, 'adj-5', { stream: 'support.*', type: 'multiplier', value: 2 })
    expect(ack.result.modifier).toMatchObject({ endsAt: null })
    expect((await state()).activeModifiers).toContainEqual(
      expect.objectContaining({ source: `manual:${ack.result.modifier.id}`, remainingMs: null }),
    )
    const reset = await fetch(`${stack.gatewayUrl}/api/simulation/reset`, { method: 'POST' })
    expect(reset.status).toBe(200)
    expect((await state()).activeModifiers).toEqual([])
    await c.close()
  })
})
