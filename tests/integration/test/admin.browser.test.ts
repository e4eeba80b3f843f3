/**
 * The admin page in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser is ever downloaded) against the generator and
 * the gateway as real processes: first paint, the clock and a chart moving,
 * pause/resume, speed, the token prompt, scenario activate → stop → reset, the
 * payment-outage row and modified streams in Current state, a
 * stream modifier from the form, an external event from the template list,
 * the World panel's action forms, not-available states, and screenshots under
 * test-output/.
 *
 * Skipped, saying so, only when no Chromium is installed.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haveChromium, json, OUT, openBrowser, until, type Browser } from './browser.js'
import { startStack, type Stack } from './harness.js'

const TOKEN = 'browser-test-token'

const chromiumHere = haveChromium('admin.browser.test.ts')

let stack: Stack
let secured: { url: string }
let browser: Browser
let context: BrowserContext
let page: Page
let pageErrors: string[]

const text = (selector: string, p: Page = page) => p.locator(selector).innerText()

describe.skipIf(!chromiumHere)('admin page in headless Chromium', () => {
  beforeAll(async () => {
    // 600× makes an hour of simulation pass in 6 s: enough events for every stream's chart.
    stack = await startStack({ env: { VERISIM_SPEED: '600' } })
    secured = await stack.startGateway({ ADMIN_TOKEN: TOKEN })
    browser = await openBrowser()
    ;({ context, page, pageErrors } = browser)
  })

  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('should paint within 1 s and show the world and a ticking simulation clock', async () => {
    // The browser's own first start (a freshly installed Chromium builds its font
    // caches on its first page: CI measured 1.17 s once) is not the page's cost:
    // one page of the same origin first, then the admin page, uncached.
    await page.goto(`${stack.gatewayUrl}/health/live`)
    const res = await page.goto(`${stack.gatewayUrl}/admin`)
    expect(res?.ok()).toBe(true)
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'")
    expect(page.url()).toBe(`${stack.gatewayUrl}/admin/`)
    await until(async () => (await text('#world')) === 'tutoring', 'the world name')
    const paint = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
      stateShown: performance.getEntriesByName('verisim:state-shown')[0]?.startTime ?? null,
    }))
    console.log(
      `admin page: first-contentful-paint ${paint.fcp?.toFixed(0)} ms, simulation state shown ${paint.stateShown?.toFixed(0)} ms (loopback)`,
    )
    expect(paint.fcp).not.toBeNull()
    expect(paint.fcp!).toBeLessThan(1000)

    const t1 = Date.parse(`${(await text('#sim-time')).replace(' UTC', '').replace(' ', 'T')}Z`)
    expect(Number.isNaN(t1)).toBe(false)
    await until(
      async () =>
        Date.parse(`${(await text('#sim-time')).replace(' UTC', '').replace(' ', 'T')}Z`) >
        t1 + 60_000,
      'the simulation clock to advance a minute',
    )
    expect(await text('#connection')).toContain('live')
    expect(await text('#run-state')).toBe('running')
  })

  it('should draw live points on the chart and list events in the log', async () => {
    await until(
      async () => Number(await page.locator('#chart').getAttribute('data-live-points')) > 0,
      'live points on the chart',
    )
    expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0)
    await until(
      async () => (await page.locator('#event-log tbody tr').count()) > 0,
      'rows in the event log',
    )
    // Filtering by an anomaly flag shows only such rows.
    await page.selectOption('#event-log select >> nth=2', 'anomalies')
    // Until the filter has re-rendered the log: every row shown carries a flag (the
    // rows of "all events" may still be there the moment after the change).
    const flags = await until(
      async () => {
        const rows = await page.locator('#event-log tbody tr').count()
        const flagged = await page.locator('#event-log tbody tr .flag').allInnerTexts()
        return rows > 0 && flagged.length === rows ? flagged : null
      },
      'only anomalous rows in the log',
      30_000,
    )
    for (const f of flags) expect(['warning', 'critical']).toContain(f)
    await page.selectOption('#event-log select >> nth=2', 'all')
  })

  it('should pause the clock and resume it', async () => {
    await page.click('#btn-pause')
    await until(async () => (await text('#run-state')) === 'paused', 'the paused state')
    expect((await json(`${stack.gatewayUrl}/api/simulation/state`)).body.paused).toBe(true)
    const held = await text('#sim-time')
    await new Promise((r) => setTimeout(r, 1200))
    expect(await text('#sim-time')).toBe(held)
    await page.click('#btn-resume')
    await until(async () => (await text('#run-state')) === 'running', 'the running state')
    await until(async () => (await text('#sim-time')) !== held, 'the clock to move again')
    await until(async () => (await page.locator('.toast-success').count()) > 0, 'a success toast')
  })

  it('should change the speed with a preset, the keyboard and a custom value', async () => {
    await page.click('button[data-speed="10"]')
    await until(async () => (await text('#speed')) === '10×', 'speed 10×')
    expect((await json(`${stack.gatewayUrl}/api/simulation/state`)).body.speed).toBe(10)
    await page.focus('button[data-speed="60"]')
    await page.keyboard.press('Enter')
    await until(async () => (await text('#speed')) === '60×', 'speed 60× by keyboard')
    await page.fill('#speed-custom', '600')
    await page.press('#speed-custom', 'Enter')
    await until(async () => (await text('#speed')) === '600×', 'speed 600×')
    await page.fill('#speed-custom', '0')
    await page.press('#speed-custom', 'Enter')
    expect(await text('.field-error')).toContain('0.1')
  })

  it('should activate a scenario, show its state and external events, stop it and reset with confirmation', async () => {
    // Wait briefly for the generator to publish its scenarios (503 until then).
    let list = await json<{ scenarios?: { id: string; name: string }[] }>(
      `${stack.gatewayUrl}/api/simulation/scenarios`,
    )
    for (let i = 0; i < 50 && list.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 100))
      list = await json(`${stack.gatewayUrl}/api/simulation/scenarios`)
    }
    if (list.status !== 200 || !list.body?.scenarios?.length) {
      console.log(
        `scenario API not available yet (GET /api/simulation/scenarios → ${list.status}); checking the page says so`,
      )
      await page.reload()
      await until(
        async () => /not available|Could not load scenarios/.test(await text('#scenarios')),
        'the scenarios panel to say it is unavailable',
      )
      expect(await page.locator('#btn-stop').isDisabled()).toBe(true)
      return
    }
    await page.reload()
    const scenario =
      list.body.scenarios.find((s) => s.id !== 'normal-operations') ?? list.body.scenarios[0]!
    const card = page.locator(`[data-scenario="${scenario.id}"]`)
    await card.waitFor()
    await card.locator('button').click()
    await until(async () => (await text('#system-status')) === 'Running', 'system status Running')
    await until(
      async () => (await page.locator('#active-scenarios tbody tr').count()) > 0,
      'the active scenario row',
    )
    expect(await page.locator(`[data-scenario] button:not([disabled])`).count()).toBe(0) // one at a time
    await until(
      async () => (await page.locator('#timeline [data-event-id]').count()) > 0,
      "the scenario's external events",
    )
    await page.locator('#timeline [data-event-id] button').first().click()
    await page.locator('#event-details').waitFor()
    await page.screenshot({ path: path.join(OUT, 'admin-scenario.png'), fullPage: true })

    await page.click('#btn-stop')
    await until(
      async () => ['Settling', 'Baseline'].includes(await text('#system-status')),
      'system status Settling (or Baseline when it settles at once)',
    )
    await until(
      async () => /settled by|settling/i.test(await text('#toasts')),
      'the stop toast saying when it settles',
    )

    await page.click('#btn-reset')
    const dialog = page.locator('#reset-dialog')
    await dialog.waitFor({ state: 'visible' })
    expect(await dialog.innerText()).toMatch(/scenario modifier|external event/)
    await page.click('#btn-reset-confirm')
    await until(
      async () => (await text('#system-status')) === 'Baseline',
      'system status Baseline after reset',
    )
    await until(async () => /reset/i.test(await text('#toasts')), 'the reset toast')
    const state = (await json(`${stack.gatewayUrl}/api/simulation/state`)).body
    expect(state.activeModifiers).toEqual([])
  })

  it('should show payment-outage in Current state: its row (name, start, remaining, status) and the modified streams', async () => {
    const card = page.locator('[data-scenario="payment-outage"]')
    if ((await card.count()) === 0) return // a world without it: nothing to show
    await card.locator('button').click()
    const row = page.locator('#active-scenarios tbody tr')
    await until(
      async () => (await row.count()) === 1 && (await row.getAttribute('data-status')) === 'active',
      'the payment-outage row, active',
    )
    const state = (await json(`${stack.gatewayUrl}/api/simulation/state`)).body
    expect(state.scenario).toMatchObject({ id: 'payment-outage', status: 'active' })
    const cells = (await row.locator('td').allInnerTexts()).map((t) => t.trim())
    expect(cells[0]).toBe('Payment outage')
    // the page's short form of the start: `Mon 02.11 08:00` (UTC)
    const d = new Date(state.scenario.startedAt as number)
    const pad = (n: number) => String(n).padStart(2, '0')
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]
    expect(cells[1]).toBe(
      `${day} ${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`,
    )
    expect(cells[2]).toMatch(/^(\d+ (d|h|min|s)( \d+ (h|min|s))?|due)$/)
    expect(cells[3]).toBe('active')
    await until(
      async () => (await text('#modified-streams')).includes('system.api.error rate ×5'),
      'the modified streams with their modifiers',
    )
    const streams = await text('#modified-streams')
    expect(streams).toContain('customer.payment.failed probability = 0.6')
    expect(streams).toContain('scenario:payment-outage')
    expect(await text('#state-panel')).not.toMatch(/modifier · —/)
    await page.locator('#state-panel').screenshot({ path: path.join(OUT, 'admin-state-panel.png') })

    // stopped: the same row, settling, with its backlog modifiers
    await page.click('#btn-stop')
    await until(
      async () =>
        (await row.count()) === 0 || (await row.getAttribute('data-status')) === 'settling',
      'the row settling (or gone once settled)',
    )
    if ((await row.count()) === 1)
      expect(await row.locator('td').nth(3).innerText()).toBe('settling')
    expect(
      (await json(`${stack.gatewayUrl}/api/simulation/reset`, { method: 'POST' })).status,
    ).toBe(200)
    await until(
      async () => (await page.locator('#active-scenarios').count()) === 0,
      'no scenario row after reset',
    )
  })

  it('should apply a stream modifier from the form (adjust_behavior) and list it until reset', async () => {
    const form = page.locator('#modifier-form')
    await until(
      async () => (await form.locator('[name=stream] option').count()) > 0,
      'the stream list of the modifier form',
    )
    await form.locator('[name=stream]').selectOption('customer.tutor.search')
    await form.locator('[name=kind]').selectOption('multiplier')
    await form.locator('[name=value]').fill('2')
    await form.locator('[name=duration]').fill('3h')
    await form.locator('button[type=submit]').click()
    await until(
      async () => /Stream modifier mod_\d+ applied/.test(await text('#toasts')),
      'the stream modifier toast',
    )
    const state = (await json(`${stack.gatewayUrl}/api/simulation/state`)).body
    const m = state.activeModifiers.find((x: { source: string }) => x.source.startsWith('manual:'))
    expect(m).toMatchObject({
      stream: 'customer.tutor.search',
      type: 'multiplier',
      target: 'rate',
      value: 2,
      status: 'active',
    })
    expect(Date.parse(m.endsAt) - Date.parse(m.startTime)).toBe(3 * 3_600_000)
    await until(
      async () => (await text('#modified-streams')).includes('customer.tutor.search rate ×2'),
      'the manual modifier in the modified streams',
    )
    expect(
      (await json(`${stack.gatewayUrl}/api/simulation/reset`, { method: 'POST' })).status,
    ).toBe(200)
    expect((await json(`${stack.gatewayUrl}/api/simulation/state`)).body.activeModifiers).toEqual(
      [],
    )
  })

  it('should inject an external event picked from the template list, and fall back to an id without one', async () => {
    const lib = await json<{ templates: { id: string; title: string; redHerring: boolean }[] }>(
      `${stack.gatewayUrl}/api/events/templates`,
    )
    expect(lib.status).toBe(200)
    const tiktok = lib.body.templates.find((t) => t.id === 'tiktok-mention')!
    const herring = lib.body.templates.find((t) => t.redHerring)!
    const form = page.locator('#inject-form')
    const select = form.locator('select#inject-template')
    await select.waitFor()
    expect(await select.locator('option').count()).toBe(lib.body.templates.length + 1)
    expect(await select.locator('optgroup').count()).toBeGreaterThan(1)
    expect(
      await select
        .locator('optgroup[label="Marketing"] option[value="tiktok-mention"]')
        .innerText(),
    ).toContain(tiktok.title)
    expect(await select.locator(`option[value="${herring.id}"]`).innerText()).toMatch(
      /\(red herring\)$/,
    )
    await select.selectOption('tiktok-mention')
    const info = form.locator('.template-info[data-template="tiktok-mention"]')
    await info.waitFor()
    expect(await info.innerText()).toMatch(/Streams[\s\S]+Direction[\s\S]+increase[\s\S]+Delay/)
    await form.locator('button[type=submit]').click()
    await until(
      async () => (await text('#toasts')).includes(`External event “${tiktok.title}” injected`),
      'the injection toast',
    )
    const listed = (await json(`${stack.gatewayUrl}/api/events/external`)).body
    expect(listed.events.map((e: { templateId: string }) => e.templateId)).toContain(
      'tiktok-mention',
    )
    expect(
      (await json(`${stack.gatewayUrl}/api/simulation/reset`, { method: 'POST' })).status,
    ).toBe(200)

    // A gateway without the route: the free-text id, saying why.
    const p = await context.newPage()
    p.on('pageerror', (err) => pageErrors.push(err.message))
    await p.route('**/api/events/templates', (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/json',
        body: JSON.stringify({
          error: { code: 'VS_GW_NOT_FOUND', message: 'no route GET /api/events/templates' },
        }),
      }),
    )
    await p.goto(`${stack.gatewayUrl}/admin/`)
    await until(
      async () => /not available/.test(await text('#inject-form [data-template-note]', p)),
      'the note that the template list is not available',
    )
    expect(await p.locator('#inject-form input#inject-template').count()).toBe(1)
    await p.close()
  })

  it('should say which panels this server cannot serve instead of breaking', async () => {
    for (const [url, selector, what] of [
      ['/api/simulation/history?start=now&end=now', '#history-note', /not available|7-day history/],
      ['/api/events/external', '#timeline', /not available|External events/],
    ] as const) {
      const { status } = await json(`${stack.gatewayUrl}${url}`)
      const t = await text(selector)
      if (status === 404) expect(t).toMatch(/not available/)
      else expect(t).toMatch(what)
    }
  })

  it("should show the World panel with the world's actions, check a form and show the server's answer or error", async () => {
    const panel = page.locator('#world-panel')
    const form = panel.locator('form[data-action="spawn_students"]')
    await form.waitFor()
    expect(await panel.locator('h2').innerText()).toBe('World')
    expect(await panel.innerText()).toContain('tutoring')
    expect(await form.innerText()).toContain('students to sign up now')
    const count = form.locator('[name=count]')
    // labelled for screen readers, required marked
    expect(
      await page.locator(`label[for="${await count.getAttribute('id')}"]`).innerText(),
    ).toMatch(/^count/)
    expect(await count.getAttribute('aria-required')).toBe('true')

    // checked in the page first: nothing sent, the field named and focused
    await form.locator('button[type=submit]').click()
    await until(
      async () => (await form.locator('.field-error').count()) > 0,
      'the missing count reported',
    )
    expect(await form.locator('.field-error').first().innerText()).toBe('count is required')
    expect(await count.getAttribute('aria-invalid')).toBe('true')
    expect(await page.evaluate<string | null>("document.activeElement?.getAttribute('name')")).toBe(
      'count',
    )

    // the server's refusal, naming the field
    await count.fill('2')
    await form.locator('[name=cohort]').fill('martians')
    await count.press('Enter') // submits from the keyboard
    await until(async () => (await form.locator('.action-error').count()) > 0, 'the server error')
    expect(await form.locator('.action-error').innerText()).toMatch(
      /^VS_SIM_BAD_ARGUMENT: .*cohort/,
    )

    // and its answer
    const before = (await json(`${stack.gatewayUrl}/api/simulation/state`)).body.stats.entities
    await form.locator('[name=cohort]').fill('')
    await count.fill('5')
    await form.locator('button[type=submit]').click()
    const answer = form.locator('.action-answer')
    await answer.waitFor()
    expect(await answer.getAttribute('role')).toBe('status')
    expect(await answer.innerText()).toMatch(/"spawned": 5/)
    expect(await form.locator('.action-error').count()).toBe(0)
    await until(
      async () => /World action spawn_students applied/.test(await text('#toasts')),
      'the toast',
    )
    const after = (await json(`${stack.gatewayUrl}/api/simulation/state`)).body.stats.entities
    expect(after.studentsTotal).toBeGreaterThanOrEqual(before.studentsTotal + 5)
    await page.locator('#world-panel').screenshot({ path: path.join(OUT, 'admin-world.png') })
  })

  it('should ask for the admin token on a 401 and keep it for the tab', async () => {
    const p = await context.newPage()
    p.on('pageerror', (err) => pageErrors.push(err.message))
    await p.goto(`${secured.url}/admin/`)
    await until(
      async () => (await text('#run-state', p)) === 'running',
      'the running state',
      20_000,
    )
    await p.click('#btn-pause')
    const dialog = p.locator('#token-dialog')
    await dialog.waitFor({ state: 'visible' })
    await p.fill('#token-dialog input', TOKEN)
    await p.press('#token-dialog input', 'Enter')
    await until(async () => (await text('#run-state', p)) === 'paused', 'paused with the token')
    expect(await p.evaluate("sessionStorage.getItem('verisim:adminToken')")).toBe(TOKEN)
    await p.click('#btn-resume') // no second prompt
    await until(async () => (await text('#run-state', p)) === 'running', 'running again')
    await p.close()
  })

  it('should fit a narrow screen and save screenshots', async () => {
    await page.screenshot({ path: path.join(OUT, 'admin.png'), fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.waitForTimeout(300)
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - window.innerWidth',
    )
    expect(overflow).toBeLessThanOrEqual(1)
    await page.screenshot({ path: path.join(OUT, 'admin-narrow.png'), fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })
    expect(existsSync(path.join(OUT, 'admin.png'))).toBe(true)
    expect(pageErrors).toEqual([])
  })

  it('should render the API docs (/docs) under the same security headers, nothing blocked', async () => {
    const p = await context.newPage()
    const blocked: string[] = []
    p.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text())
    })
    p.on('pageerror', (err) => blocked.push(err.message))
    const res = await p.goto(`${stack.gatewayUrl}/docs`)
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'")
    await p.locator('.swagger-ui .info .title').waitFor({ timeout: 20_000 })
    expect(await p.locator('.opblock').count()).toBeGreaterThan(5)
    expect(blocked).toEqual([])
    await p.close()
  })
})
