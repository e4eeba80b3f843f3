/**
 * The admin page's "Time travel" panel in real headless Chromium (Debian's
 * `chromium`, driven by playwright-core) against the generator and the gateway
 * as real processes (issue 19): a snapshot created from the form (the name
 * checked first) and listed, another deleted, a travel previewed (the figures
 * the dry run gives, nothing switched, a time outside the run refused with the
 * server's words), a travel back (the header's timeline changes, the run is
 * paused at the target, the log holds nothing of the old line), resume, the
 * saved snapshot restored from its row after the confirmation, the timelines
 * listed with their commands and a way back (taken), a travel made elsewhere
 * followed (announced once, the log started again), a server without time
 * travel said so, no horizontal overflow on a phone, no page error, and a
 * screenshot (test-output/admin-time-travel.png).
 *
 * Skipped, saying so, only when no Chromium is installed.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haveChromium, json, OUT, openBrowser, until, type Browser } from './browser.js'
import { startStack, type Stack } from './harness.js'

const MINUTE = 60_000

const chromiumHere = haveChromium('admin-time-travel.browser.test.ts')

let stack: Stack
let browser: Browser
let context: BrowserContext
let page: Page
let pageErrors: string[]

const state = async () => (await json(`${stack.gatewayUrl}/api/simulation/state`)).body
const text = (selector: string) => page.locator(selector).innerText()

const pad = (n: number) => String(n).padStart(2, '0')
/** The page's simulation time: `2026-11-23 10:15:07` (UTC). */
function shown(ms: number): string {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}
/** A time the page shows → ms. */
const read = (s: string) => Date.parse(`${s.trim().replace(' UTC', '').replace(' ', 'T')}Z`)
/** Whole seconds (what the page's times show). */
const second = (ms: number) => Math.floor(ms / 1000) * 1000

/** The simulation times of the event log's rows. */
async function logTimes(): Promise<number[]> {
  return (await page.locator('#event-log tbody tr td:first-child').allInnerTexts()).map(read)
}

describe.skipIf(!chromiumHere)('admin page: snapshots, restore and time travel', () => {
  let startedAt: number
  let snapId: string
  let snapAt: number
  let target: number

  beforeAll(async () => {
    // 600×: ten minutes of simulation a second; an automatic snapshot every simulated hour.
    stack = await startStack({
      env: { VERISIM_SPEED: '600', VERISIM_TIMELINE_EVERY_HOURS: '1' },
    })
    browser = await openBrowser()
    ;({ context, page, pageErrors } = browser)
  })

  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('should show the timeline in the header and list the run start, which cannot be deleted', async () => {
    const res = await page.goto(`${stack.gatewayUrl}/admin/`)
    expect(res?.ok()).toBe(true)
    await until(async () => (await text('#world')) === 'tutoring', 'the world name')
    await until(async () => (await text('#header-timeline')) === 'timeline 1', 'timeline 1')
    startedAt = Date.parse((await state()).startedAt)
    const origin = page.locator('#snapshot-list tr[data-kind="origin"]')
    await origin.waitFor()
    expect(await origin.innerText()).toContain('Run start')
    expect(await origin.locator('[data-action="restore"]').count()).toBe(1)
    expect(await origin.locator('[data-action="delete"]').count()).toBe(0)
    await until(
      async () => /automatic snapshot/.test(await text('#tt-summary')),
      'the automatic snapshots in the summary',
    )
    const current = page.locator('#timelines li[data-current]')
    expect(await current.getAttribute('data-timeline')).toBe('tl_1')
    expect(await page.locator('#timelines [data-action="go-back"]').count()).toBe(0)
  })

  it('should create a snapshot from the form (the name checked first) and list it, and delete another', async () => {
    const form = page.locator('#snapshot-form')
    await form.locator('button[type=submit]').click()
    expect(await text('#snapshot-name-err')).toBe('Name is required.')
    expect(await page.locator('#snapshot-name').getAttribute('aria-invalid')).toBe('true')
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe(
      'snapshot-name',
    )

    // room before the snapshot to travel back into
    await until(
      async () => Date.parse((await state()).currentSimulationTime) > startedAt + 20 * MINUTE,
      '20 simulated minutes',
    )
    await page.fill('#snapshot-name', 'before lunch')
    await page.fill('#snapshot-description', 'a moment to come back to')
    await page.press('#snapshot-name', 'Enter')
    await until(
      async () => /Snapshot “before lunch” saved at/.test(await text('#toasts')),
      'the snapshot toast',
    )
    const row = page.locator('#snapshot-list tr[data-kind="manual"]', { hasText: 'before lunch' })
    await row.waitFor()
    snapId = (await row.getAttribute('data-snapshot'))!
    const listed = (await json(`${stack.gatewayUrl}/api/simulation/snapshots`)).body
    const saved = listed.snapshots.find((s: { id: string }) => s.id === snapId)
    expect(saved).toMatchObject({ name: 'before lunch', description: 'a moment to come back to' })
    snapAt = Date.parse(saved.simulatedTime)
    const cells = (await row.locator('td').allInnerTexts()).map((t) => t.trim())
    expect(cells[0]).toContain('a moment to come back to')
    expect(cells[1]).toBe(shown(snapAt))
    expect(cells[3]).toMatch(/^\d+(\.\d)? (KB|MB)$/)
    expect(await page.inputValue('#snapshot-name')).toBe('')
    expect(await page.locator('#snapshot-name-err').count()).toBe(0)

    // another one, deleted after the confirmation
    await page.fill('#snapshot-name', 'scratch')
    await form.locator('button[type=submit]').click()
    const scratch = page.locator('#snapshot-list tr', { hasText: 'scratch' })
    await scratch.waitFor()
    await scratch.locator('[data-action="delete"]').click()
    const dialog = page.locator('#tt-dialog')
    await dialog.waitFor({ state: 'visible' })
    expect(await dialog.innerText()).toMatch(/Delete snapshot “scratch”\?[\s\S]*cannot be undone/)
    await page.click('#tt-confirm')
    await until(async () => (await scratch.count()) === 0, 'the deleted snapshot gone')
    await until(async () => /Snapshot “scratch” deleted/.test(await text('#toasts')), 'the toast')
  })

  it('should preview a moment with the figures of the dry run, switch nothing, and show why a time is refused', async () => {
    const before = await state()
    const at = second(startedAt + 0.4 * (snapAt - startedAt))
    await page.fill('#travel-time', shown(at))
    await page.click('#btn-preview')
    const preview = page.locator(`#travel-preview[data-target="${new Date(at).toISOString()}"]`)
    await preview.waitFor()
    const dry = (
      await json(`${stack.gatewayUrl}/api/simulation/travel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ targetTime: new Date(at).toISOString(), dryRun: true }),
      })
    ).body
    const { students, tutors } = dry.state.stats.entities
    expect(await preview.locator('[data-figure="students"]').innerText()).toMatch(
      new RegExp(`^${students.toLocaleString('en')}`),
    )
    expect(await preview.locator('[data-figure="tutors"]').innerText()).toMatch(
      new RegExp(`^${tutors.toLocaleString('en')}`),
    )
    expect(await preview.locator('[data-figure="scenario"]').innerText()).toBe('none (baseline)')
    expect(await preview.locator('[data-figure="anomalous"]').innerText()).toMatch(
      new RegExp(`^${dry.state.anomalousStreams.length}`),
    )
    expect(Number(await preview.locator('[data-before]').getAttribute('data-before'))).toBe(
      dry.events.before.length,
    )
    expect(Number(await preview.locator('[data-after]').getAttribute('data-after'))).toBe(
      dry.events.after.length,
    )
    expect(dry.events.before.length).toBeGreaterThan(0)
    expect(await preview.locator('#travel-events tr[data-side="before"]').count()).toBe(3)
    expect(await preview.locator('#travel-events tr[data-side="after"]').count()).toBe(3)
    const after = await state()
    expect(after.timeline.id).toBe('tl_1')
    expect(after.epoch).toBe(before.epoch)
    expect(await text('#header-timeline')).toBe('timeline 1')

    // checked in the page first; the run's range is the server's to say
    await page.fill('#travel-time', 'yesterday')
    await page.click('#btn-preview')
    expect(await text('#travel-time-err')).toMatch(/must be a time in UTC like/)
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe(
      'travel-time',
    )
    await page.fill('#travel-time', '2001-01-01 00:00:07')
    await page.click('#btn-preview')
    await until(
      async () =>
        /outside the run; expected a time from .* \(the run's start\)/.test(
          await text('#travel-error'),
        ),
      "the server's refusal naming the range",
    )
    expect(await page.locator('#travel-time-err').count()).toBe(0)
  })

  it('should travel back after the confirmation: a new timeline in the header, paused at the target, nothing of the old line in the log', async () => {
    target = second(startedAt + 0.6 * (snapAt - startedAt))
    // the log holds events past the target before
    await until(
      async () => (await logTimes()).some((t) => t > target),
      'events after the target in the log',
    )
    expect((await text('#connection')).startsWith('live')).toBe(true)
    await page.fill('#travel-time', shown(target))
    await page.click('#btn-travel')
    const dialog = page.locator('#tt-dialog')
    await dialog.waitFor({ state: 'visible' })
    const asked = await dialog.innerText()
    expect(asked).toContain(`Travel to ${shown(target)} UTC?`)
    expect(asked).toMatch(/paused there, as a new timeline: timeline 2/)
    expect(asked).toMatch(/Timeline 1 is saved where it stands at that moment \(now .* UTC\)/)
    await page.click('#tt-confirm')

    await until(
      async () => (await text('#header-timeline')) === 'timeline 2 · travel',
      'timeline 2 in the header',
    )
    const s = await state()
    expect(s.paused).toBe(true)
    expect(s.currentSimulationTime).toBe(new Date(target).toISOString())
    expect(s.timeline).toMatchObject({ id: 'tl_2', parent: 'tl_1', reason: 'travel' })
    await until(async () => (await text('#run-state')) === 'paused', 'paused in the header')
    await until(async () => (await text('#sim-time')) === `${shown(target)} UTC`, 'the clock')
    expect(await text('#travel-arrived')).toBe(
      `Paused at ${shown(target)} UTC on timeline 2. Resume (Clock) continues from there.`,
    )
    await until(
      async () => /Travelled to .*: timeline 2, paused there/.test(await text('#toasts')),
      'the toast',
    )
    // the live tail began again: every row of the log is of the new line (at or before the target)
    await until(
      async () => (await logTimes()).every((t) => t <= target),
      'only events up to the target in the log',
    )
    await until(async () => (await text('#connection')).startsWith('live'), 'reconnected')
    // this page's own switch: the reconnect's reset is expected, not announced
    await page.waitForTimeout(1500)
    expect(await page.locator('.toast', { hasText: 'The streams began anew' }).count()).toBe(0)
    expect(await page.locator('#timelines li[data-current]').getAttribute('data-timeline')).toBe(
      'tl_2',
    )
  })

  it('should resume from the target with Resume', async () => {
    await page.click('#btn-resume')
    await until(async () => (await text('#run-state')) === 'running', 'running')
    await until(
      async () => Date.parse((await state()).currentSimulationTime) > target + 5 * MINUTE,
      'the run past the target',
    )
    await until(
      async () => (await logTimes()).some((t) => t > target),
      'new events after the target in the log',
    )
    expect(await text('#travel-arrived')).toBe(`Timeline 2 continues from ${shown(target)} UTC.`)
  })

  it('should restore the saved snapshot from its row after the confirmation: another timeline', async () => {
    const epoch = (await state()).epoch
    await page.click(`#snapshot-list tr[data-snapshot="${snapId}"] [data-action="restore"]`)
    const dialog = page.locator('#tt-dialog')
    await dialog.waitFor({ state: 'visible' })
    const asked = await dialog.innerText()
    expect(asked).toContain('Restore “before lunch”?')
    expect(asked).toMatch(/as a new timeline: timeline 3/)
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe(
      'Cancel',
    )
    await page.click('#tt-confirm')
    await until(
      async () => (await text('#header-timeline')) === 'timeline 3 · restore',
      'timeline 3 in the header',
    )
    const s = await state()
    expect(s.timeline).toMatchObject({ id: 'tl_3', parent: 'tl_2', reason: 'restore' })
    expect(s.epoch).not.toBe(epoch)
    expect(Date.parse(s.currentSimulationTime)).toBeGreaterThanOrEqual(snapAt)
    await until(
      async () =>
        (await text('#toasts')).includes(
          `Restored snapshot “before lunch”: timeline 3 continues from ${shown(snapAt)} UTC`,
        ),
      'the restore toast',
    )
    // where timelines 1 and 2 were left, saved as their way back
    await until(
      async () => (await page.locator('#snapshot-list tr[data-kind="branch"]').count()) === 2,
      'the two timelines left in the snapshot list',
    )
  })

  it('should list the timelines, the current one marked, the ones left with their commands and a way back, and go back', async () => {
    const listed = (await json(`${stack.gatewayUrl}/api/simulation/timelines`)).body
    expect(listed.timelines.map((t: { id: string }) => t.id)).toEqual(['tl_3', 'tl_2', 'tl_1'])
    await until(
      async () => (await page.locator('#timelines li[data-timeline]').count()) === 3,
      'three timelines',
    )
    const items = page.locator('#timelines li[data-timeline]')
    expect(await items.evaluateAll((l) => l.map((e) => e.getAttribute('data-timeline')))).toEqual([
      'tl_3',
      'tl_2',
      'tl_1',
    ])
    const current = page.locator('#timelines li[data-current]')
    expect(await current.getAttribute('data-timeline')).toBe('tl_3')
    expect(await current.innerText()).toContain('restored “before lunch”, leaving timeline 2')
    expect(await text('#timelines li[data-timeline="tl_2"]')).toContain(
      'travelled, leaving timeline 1',
    )
    expect(await current.locator('[data-action="go-back"]').count()).toBe(0)
    for (const t of listed.timelines.slice(1)) {
      const li = page.locator(`#timelines li[data-timeline="${t.id}"]`)
      expect(await li.locator('[data-action="go-back"]').isEnabled()).toBe(true)
      expect(Number(await li.locator('[data-commands]').getAttribute('data-commands'))).toBe(
        t.commands.length,
      )
      expect(await li.innerText()).toContain(`to ${shown(Date.parse(t.leftAt))} UTC (left)`)
    }

    const tl2 = listed.timelines[1]
    await page.click('#timelines li[data-timeline="tl_2"] [data-action="go-back"]')
    const dialog = page.locator('#tt-dialog')
    await dialog.waitFor({ state: 'visible' })
    expect(await dialog.innerText()).toMatch(
      new RegExp(`Go back to timeline 2\\?[\\s\\S]*${tl2.returnSnapshot}[\\s\\S]*timeline 4`),
    )
    await page.click('#tt-confirm')
    await until(
      async () => (await text('#header-timeline')) === 'timeline 4 · restore',
      'timeline 4 in the header',
    )
    const s = await state()
    expect(s.timeline).toMatchObject({ id: 'tl_4', reason: 'restore' })
    expect(Date.parse(s.currentSimulationTime)).toBeGreaterThanOrEqual(Date.parse(tl2.leftAt))
  })

  it('should follow a travel made elsewhere: told once, the new timeline everywhere, the log started again', async () => {
    await until(async () => (await text('#connection')).startsWith('live'), 'live')
    const now = Date.parse((await state()).currentSimulationTime)
    const elsewhere = second(now - 10 * MINUTE)
    const r = await json(`${stack.gatewayUrl}/api/simulation/travel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ targetTime: new Date(elsewhere).toISOString() }),
    })
    expect(r.status).toBe(200)
    expect(r.body.timeline).toMatchObject({ id: 'tl_5', reason: 'travel' })
    await until(
      async () => (await text('#header-timeline')) === 'timeline 5 · travel',
      'timeline 5 in the header',
    )
    await until(
      async () => /The streams began anew/.test(await text('#toasts')),
      'the toast saying the streams began anew',
    )
    await until(
      async () => (await logTimes()).every((t) => t <= elsewhere),
      'only events up to the target in the log',
    )
    expect(await page.locator('.toast', { hasText: 'The streams began anew' }).count()).toBe(1)
    await until(
      async () =>
        (await page.locator('#timelines li[data-current]').getAttribute('data-timeline')) ===
        'tl_5',
      'the timelines list read again',
    )
    expect(await page.locator('#timelines li[data-timeline]').count()).toBe(5)
    // the travel field starts again from the new present; no "paused here" of this page's own
    expect(await page.inputValue('#travel-time')).toBe(shown(elsewhere))
    expect(await page.locator('#travel-arrived').count()).toBe(0)
    await page.click('#btn-resume')
    await until(async () => (await text('#run-state')) === 'running', 'running')
  })

  it('should say so when this server does not serve time travel', async () => {
    const p = await context.newPage()
    p.on('pageerror', (err) => pageErrors.push(err.message))
    await p.route(/\/api\/simulation\/(snapshots|timelines)$/, (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/json',
        body: JSON.stringify({
          error: {
            code: 'VS_GW_NOT_FOUND',
            message: `no route GET ${new URL(route.request().url()).pathname}`,
          },
        }),
      }),
    )
    await p.goto(`${stack.gatewayUrl}/admin/`)
    const note = p.locator('#time-travel [data-unavailable]')
    await note.waitFor()
    expect(await note.innerText()).toMatch(/not available on this server/)
    expect(await p.locator('#snapshot-form').count()).toBe(0)
    await p.close()
  })

  it('should fit a narrow screen, save a screenshot, and have had no page error', async () => {
    // a span from now, resolved under the field
    await page.fill('#travel-time', '-30m')
    await until(
      async () => / 30 min back$/.test(await text('#travel-time-resolved')),
      'the span resolved',
    )
    // a preview in the picture, the sticky header at its top
    const at = second(snapAt + 5 * MINUTE)
    await page.fill('#travel-time', shown(at))
    await page.click('#btn-preview')
    await page.locator(`#travel-preview[data-target="${new Date(at).toISOString()}"]`).waitFor()
    await page.evaluate('window.scrollTo(0, 0)')
    await page.screenshot({ path: path.join(OUT, 'admin-time-travel.png'), fullPage: true })
    expect(existsSync(path.join(OUT, 'admin-time-travel.png'))).toBe(true)
    await page.setViewportSize({ width: 390, height: 844 })
    await page.waitForTimeout(300)
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - window.innerWidth',
    )
    expect(overflow).toBeLessThanOrEqual(1)
    await page.setViewportSize({ width: 1280, height: 900 })
    expect(pageErrors).toEqual([])
  })
})
